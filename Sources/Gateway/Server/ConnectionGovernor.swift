#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Synchronization

/// Keeps the server's connections within its descriptors and its timeouts.
///
/// Every connection is counted when it starts. Past `ConnectionLimits.connections` the
/// oldest idle connections (waiting for a request, nothing left to send) are closed to
/// make room, as nginx reuses its keep-alive connections; a connection that arrives while
/// even `connectionsHard` are open gets a 503 and is closed. Descriptors beyond those are
/// the reserve, so running out of connections never means running out of descriptors.
///
/// Each event loop keeps its own list of connections (`LoopConnections`), swept on that
/// loop once a second for timeouts: the hot path only bumps counters, it never touches
/// a timer or a clock for them.
final class ConnectionGovernor: Sendable {
    let limits: ConnectionLimits
    private let open = Atomic<Int>(0)
    /// The most connections open at once since memory was last handed back (`releaseMemory`).
    private let peak = Atomic<Int>(0)
    private let loops = Mutex<[ObjectIdentifier: LoopEntry]>([:])

    private final class LoopEntry: Sendable {
        let loop: any EventLoop
        let connections: NIOLoopBound<LoopConnections>
        /// A drain is queued on the loop already (admissions in a burst queue one).
        let drainQueued = Atomic<Bool>(false)

        init(loop: any EventLoop, connections: NIOLoopBound<LoopConnections>) {
            self.loop = loop
            self.connections = connections
        }
    }

    init(limits: ConnectionLimits) { self.limits = limits }

    var openConnections: Int { open.load(ordering: .relaxed) }

    /// The connection list of `loop`; call on that loop.
    func connections(on loop: any EventLoop) -> LoopConnections {
        loops.withLock { loops in
            if let entry = loops[ObjectIdentifier(loop)] { return entry.connections.value }
            let connections = LoopConnections(limits: limits, loop: loop, governor: self)
            loops[ObjectIdentifier(loop)] = LoopEntry(loop: loop, connections: NIOLoopBound(connections, eventLoop: loop))
            return connections
        }
    }

    /// Counts a new connection arriving on `loop`; false when it must be refused. Past the
    /// hard cap an idle connection of the same loop is closed right away to make room (a
    /// burst of new clients must not wait for the asynchronous drain); if there is none,
    /// the newcomer is refused.
    func admit(on connections: LoopConnections) -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        if now > limits.connectionsHard {
            drain()
            guard connections.closeIdle(count: 1) > 0 else {
                open.subtract(1, ordering: .relaxed)
                return false
            }
        }
        if now > limits.connections { drain() }
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, current) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = current
        }
        return true
    }

    /// After a flood of connections has gone, hands the freed heap back to the kernel.
    /// The process keeps glibc's trim threshold high for chunk buffers
    /// (`tuneAllocatorForChunkBuffers`), so without this the memory of thousands of closed
    /// connections stays resident for good. Called by the loops' sweeps.
    func releaseMemoryAfterFloods() {
        let now = openConnections, high = peak.load(ordering: .relaxed)
        guard high - now >= max(256, high / 2) else { return }
        peak.store(now, ordering: .relaxed)
        Self.mallocTrim?(0)
    }

    /// glibc's `malloc_trim`, looked up once (Swift's Glibc module does not declare it).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    /// Asks the loops to make room if more than `connections` are open.
    func drainIfOver() {
        if openConnections > limits.connections { drain() }
    }

    /// A counted connection has closed.
    func left() { open.subtract(1, ordering: .relaxed) }

    /// Asks every loop to close its share of idle connections, oldest first.
    private func drain() {
        let entries = loops.withLock { Array($0.values) }
        for entry in entries where !entry.drainQueued.exchange(true, ordering: .relaxed) {
            entry.loop.execute { [self] in
                entry.drainQueued.store(false, ordering: .relaxed)
                let excess = openConnections - limits.connections
                guard excess > 0 else { return }
                // Each loop closes its share, plus a batch so a flood is not met one by one.
                entry.connections.value.closeIdle(count: excess / max(1, entries.count) + 1 + limits.connections / 64)
            }
        }
    }
}

/// One event loop's connections, for timeouts and for making room. Used on that loop only.
final class LoopConnections {
    private var members: [ObjectIdentifier: ConnectionSequencer] = [:]
    private let limits: ConnectionLimits
    private var sweeper: RepeatedTask?

    /// The time of the last sweep: a clock for idleness at one sweep's resolution, which
    /// connections read instead of asking the system for the time on every request.
    private(set) var tick = NIODeadline.now()
    /// The sweep before `tick`.
    private var previousTick = NIODeadline.now()
    private let governor: ConnectionGovernor

    init(limits: ConnectionLimits, loop: any EventLoop, governor: ConnectionGovernor) {
        self.limits = limits
        self.governor = governor
        let interval = min(Duration.seconds(1), min(limits.header, limits.idle, limits.send) / 2)
        let nanos = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        let bound = NIOLoopBound(self, eventLoop: loop)
        sweeper = loop.scheduleRepeatedTask(initialDelay: .nanoseconds(nanos), delay: .nanoseconds(nanos)) { _ in
            bound.value.sweep()
        }
    }

    var count: Int { members.count }

    /// Connections admitted on this loop so far: each one's number orders connections
    /// idle since the same sweep, oldest first.
    private var admitted = 0

    /// Lists a new connection; returns its number.
    func add(_ handler: ConnectionSequencer) -> Int {
        members[ObjectIdentifier(handler)] = handler
        admitted &+= 1
        return admitted
    }
    func remove(_ handler: ConnectionSequencer) { members[ObjectIdentifier(handler)] = nil }

    /// Closes every connection past one of its timeouts.
    private func sweep() {
        let now = NIODeadline.now()
        previousTick = tick
        tick = now
        for handler in Array(members.values) { handler.checkTimeouts(now: now, limits: limits) }
        // Connections too young to close at their admission may be old enough now.
        governor.drainIfOver()
        governor.releaseMemoryAfterFloods()
    }

    /// Closes up to `count` idle connections: those idle longest first (to a sweep's
    /// resolution), then the oldest. A busy client between two requests looks idle for a
    /// moment, and a client that has just connected cannot be told from one that never
    /// will ask: neither is closed before it has been idle across a whole sweep.
    @discardableResult
    func closeIdle(count: Int) -> Int {
        // Only connections idle since before the last sweep: one answered more recently is
        // a client at work (right after a sweep, every busy client was last answered
        // before it), and a new one gets a sweep's time to send its first request.
        let idle = members.values.compactMap { handler in
            handler.idleSince().flatMap { $0.since >= previousTick ? nil : (handler, $0) }
        }
        let order = idle.sorted { a, b in a.1.since != b.1.since ? a.1.since < b.1.since : a.1.number < b.1.number }
        let chosen = order.prefix(count)
        for (handler, _) in chosen { handler.closeForRoom() }
        return chosen.count
    }
}
