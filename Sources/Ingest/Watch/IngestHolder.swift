import Foundation

/// Who holds a claim: `host:pid:start`. A holder on this host whose process is gone is dead
/// at once (its lease need not run out first), so a watcher restarted after `kill -9` takes
/// its own earlier claims back straight away; another host's claim waits for its lease.
public struct IngestHolder: Sendable, Equatable {
    public var host: String
    public var pid: Int32
    public var start: Int64

    public static func current() -> IngestHolder {
        IngestHolder(host: ProcessInfo.processInfo.hostName, pid: getpid(), start: Int64(Date().timeIntervalSince1970))
    }

    public var text: String { "\(host):\(pid):\(start)" }

    public init(host: String, pid: Int32, start: Int64) {
        self.host = host; self.pid = pid; self.start = start
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), let start = Int64(parts[parts.count - 1]) else { return nil }
        self.init(host: parts.dropLast(2).joined(separator: ":"), pid: pid, start: start)
    }

    /// Whether `other` (a holder text from the ledger) is a process of this host that no
    /// longer runs. A reused pid reads as alive: then the lease decides (safe, only slower).
    public func knowsDead(_ other: String) -> Bool {
        guard let h = IngestHolder(other), h.host == host, h != self else { return false }
        return kill(h.pid, 0) == -1 && errno == ESRCH
    }
}
