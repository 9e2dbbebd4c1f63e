import Foundation

/// The stability rule (Docs/catalog.md, "Watch"): a file is ready once its size, mtime,
/// ctime and inode stayed the same for at least `stableSeconds` of this process's monotonic
/// time, AND its mtime is at least `stableSeconds` old by the wall clock. The first clause
/// needs no agreement between the file server's clock and ours; the second catches a write
/// that landed just before the first look (a watcher just started or stalled by a long scan).
/// An empty file is never ready (writers often create first and fill later). Nothing
/// persists: after a restart every file waits again, so a file is never taken early and at
/// most `stableSeconds` late.
public struct StabilityTracker: Sendable {
    public let stableSeconds: Double
    private var seen = [String: (observation: FileObservation, since: Double)]()

    public init(stableSeconds: Double) {
        self.stableSeconds = stableSeconds
    }

    /// Records a scan's look at `path` and says whether it is ready now. `monotonic` is
    /// seconds of a clock that never jumps (`ContinuousClock`), `wall` unix seconds.
    public mutating func observe(_ path: String, _ observation: FileObservation, monotonic: Double, wall: Double) -> Bool {
        if let old = seen[path], old.observation == observation {
            // Unchanged since `old.since`.
        } else {
            seen[path] = (observation, monotonic)
        }
        guard observation.size > 0, let since = seen[path]?.since else { return false }
        let age = wall - Double(observation.mtimeNanoseconds) / 1e9
        return monotonic - since >= stableSeconds && age >= stableSeconds
    }

    /// Forgets paths a scan no longer found (deleted or renamed away).
    public mutating func keepOnly(_ paths: Set<String>) {
        seen = seen.filter { paths.contains($0.key) }
    }

    public var trackedCount: Int { seen.count }
}

/// The two clocks the watcher reads, so tests can drive the stability rule by hand.
public protocol WatchClock: Sendable {
    /// Seconds of a clock that never goes back or jumps (not the wall clock).
    func monotonicSeconds() -> Double
    /// Unix seconds.
    func wallSeconds() -> Double
}

public struct SystemWatchClock: WatchClock {
    let origin = ContinuousClock.now
    public init() {}
    public func monotonicSeconds() -> Double {
        let d = ContinuousClock.now - origin
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
    public func wallSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
