#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// How long a connection may take over each part of its life, and how many connections
/// and cached files the process's descriptors are shared between. Defaults follow nginx
/// (Docs/serve.md, "Limits and timeouts").
struct ConnectionLimits: Sendable {
    /// A request head must arrive whole within this, counted from its first byte (or from
    /// the connection's start for its first request): a client that trickles a header a
    /// byte at a time (slowloris) cannot hold a connection longer.
    var header: Duration
    /// Between requests.
    var idle: Duration
    /// An answer waiting on a client that reads nothing.
    var send: Duration
    /// Open connections beyond which idle ones are closed, oldest first, to make room.
    var connections: Int
    /// Beyond `connections`: new connections are still taken while idle ones are closed,
    /// up to this many in all; past it a new connection gets a 503 and is closed.
    /// `maxConnections` lowers `connections`, never this.
    var connectionsHard: Int
    /// Open files each event loop's cache may keep.
    var cachedFilesPerLoop: Int
    /// Descriptors left for everything else: answers from the responder, metadata walks,
    /// S3 sockets, the runtime's own files.
    var reserve: Int

    init(configuration: GatewayConfiguration, descriptorLimit: Int = ConnectionLimits.descriptorLimit(),
         openAtStart: Int = ConnectionLimits.openDescriptors(), loops: Int = System.coreCount) {
        header = .milliseconds(Int((configuration.headerTimeoutSeconds ?? 60) * 1000))
        idle = .milliseconds(Int((configuration.idleTimeoutSeconds ?? 75) * 1000))
        send = .milliseconds(Int((configuration.sendTimeoutSeconds ?? 60) * 1000))
        let limit = max(64, descriptorLimit)
        // What is open already (roots, the log), what the event loops open next (epoll,
        // wake-up and timer descriptors), and a sixteenth of the rest for the unforeseen.
        reserve = openAtStart + 16 + max(32, limit / 16)
        // An eighth for cached files, at most 4096 per loop.
        cachedFilesPerLoop = min(4096, limit / 8 / max(1, loops))
        let available = max(32, limit - reserve - cachedFilesPerLoop * max(1, loops))
        // A connection holds its socket and, while answering, at most one file.
        connectionsHard = max(2, available / 2)
        connections = max(1, min(configuration.maxConnections ?? Int.max, connectionsHard * 7 / 8))
    }

    /// Descriptors open in this process now.
    static func openDescriptors() -> Int {
        guard let folder = opendir("/proc/self/fd") else { return 16 }
        defer { closedir(folder) }
        var count = -1 // the listing's own descriptor
        while let entry = readdir(folder) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count)
    }

    /// The soft descriptor limit, raised to the hard one first (Debian's soft default is
    /// 1024): connections and the open-file caches both hold descriptors.
    static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, 1 << 20))
    }
}
