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
            let connections = LoopConnections(limits: limits, loop: loop)
            loops[ObjectIdentifier(loop)] = LoopEntry(loop: loop, connections: NIOLoopBound(connections, eventLoop: loop))
            return connections
        }
    }

    /// Counts a new connection; false when it must be refused.
    func admit() -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        if now > limits.connectionsHard {
            open.subtract(1, ordering: .relaxed)
            drain()
            return false
        }
        if now > limits.connections { drain() }
        return true
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
    private var members: [ObjectIdentifier: FastPathHandler] = [:]
    private let limits: ConnectionLimits
    private var sweeper: RepeatedTask?

    init(limits: ConnectionLimits, loop: any EventLoop) {
        self.limits = limits
        let interval = min(Duration.seconds(1), min(limits.header, limits.idle, limits.send) / 2)
        let nanos = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        let bound = NIOLoopBound(self, eventLoop: loop)
        sweeper = loop.scheduleRepeatedTask(initialDelay: .nanoseconds(nanos), delay: .nanoseconds(nanos)) { _ in
            bound.value.sweep()
        }
    }

    var count: Int { members.count }

    func add(_ handler: FastPathHandler) { members[ObjectIdentifier(handler)] = handler }
    func remove(_ handler: FastPathHandler) { members[ObjectIdentifier(handler)] = nil }

    /// Closes every connection past one of its timeouts.
    private func sweep() {
        let now = NIODeadline.now()
        for handler in Array(members.values) { handler.checkTimeouts(now: now, limits: limits) }
    }

    /// Closes up to `count` idle connections, those idle longest first.
    func closeIdle(count: Int) {
        let now = NIODeadline.now()
        let idle = members.values.compactMap { handler in handler.idleSince(now: now).map { (handler, $0) } }
        for (handler, _) in idle.sorted(by: { $0.1 < $1.1 }).prefix(count) { handler.closeForRoom() }
    }
}
