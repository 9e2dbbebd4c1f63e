import Catalog
import Ingest
import Testing

/// The stability rule driven by a fake clock: `monotonic` and `wall` are whatever the test says.
@Suite struct StabilityTrackerTests {
    /// A hand-driven clock: both clocks advance together unless a test moves one alone.
    struct FakeClock {
        var monotonic = 1000.0
        var wall = 1_700_000_000.0
        mutating func advance(_ s: Double) { monotonic += s; wall += s }
    }

    func file(size: Int64, mtime: Double, ctime: Double? = nil, inode: Int64 = 7) -> FileObservation {
        FileObservation(size: size, mtimeNanoseconds: Int64(mtime * 1e9), ctimeNanoseconds: Int64((ctime ?? mtime) * 1e9), inode: inode)
    }

    @Test func readyOnlyAfterStableSecondsOfUnchangedObservation() {
        var clock = FakeClock()
        var t = StabilityTracker(stableSeconds: 4)
        // Written long ago (mtime old), first seen now: still waits 4 s of observation.
        let f = file(size: 100, mtime: clock.wall - 3600)
        do { let ready = t.observe("a.fits", f, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
        clock.advance(3.9)
        do { let ready = t.observe("a.fits", f, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
        clock.advance(0.1)
        do { let ready = t.observe("a.fits", f, monotonic: clock.monotonic, wall: clock.wall); #expect(ready) }
    }

    @Test func anyChangeRestartsTheWait() {
        var clock = FakeClock()
        var t = StabilityTracker(stableSeconds: 4)
        let old = clock.wall - 3600
        let base = file(size: 100, mtime: old)
        _ = t.observe("a", base, monotonic: clock.monotonic, wall: clock.wall)
        clock.advance(3)
        // Each of size, mtime, ctime, inode: a change restarts the 4 s.
        for changed in [file(size: 101, mtime: old), file(size: 101, mtime: old + 1),
                        file(size: 101, mtime: old + 1, ctime: old + 2), file(size: 101, mtime: old + 1, ctime: old + 2, inode: 8)] {
            do { let ready = t.observe("a", changed, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
            clock.advance(3)
            do { let ready = t.observe("a", changed, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
        }
        clock.advance(1)
        do { let ready = t.observe("a", file(size: 101, mtime: old + 1, ctime: old + 2, inode: 8), monotonic: clock.monotonic, wall: clock.wall); #expect(ready) }
    }

    @Test func aSlowAppendIsNeverReady() {
        // 64 KiB every 3 s with a 4 s rule: never ready until the appends stop.
        var clock = FakeClock()
        var t = StabilityTracker(stableSeconds: 4)
        var size: Int64 = 0
        var mtime = clock.wall
        for step in 0..<30 {  // scans every second for 30 s
            if step % 3 == 0 { size += 65536; mtime = clock.wall }
            do { let ready = t.observe("slow.fits", file(size: size, mtime: mtime), monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
            clock.advance(1)
        }
        // Last append at step 27 (wall = start + 27); ready at +4 s, not before.
        clock.advance(0.9)  // now start + 30.9 = last append + 3.9
        do { let ready = t.observe("slow.fits", file(size: size, mtime: mtime), monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
        clock.advance(0.1)
        do { let ready = t.observe("slow.fits", file(size: size, mtime: mtime), monotonic: clock.monotonic, wall: clock.wall); #expect(ready) }
    }

    @Test func aRecentMtimeWaitsEvenWhenObservedLongEnough() {
        // The file server's clock is ahead: mtime says 10 s in our future. Observation alone
        // would take it after 4 s; the mtime clause holds it until its mtime is 4 s old.
        var clock = FakeClock()
        var t = StabilityTracker(stableSeconds: 4)
        let f = file(size: 10, mtime: clock.wall + 10)
        _ = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall)
        clock.advance(5)
        do { let ready = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
        clock.advance(8.9)
        do { let ready = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
        clock.advance(0.1)
        do { let ready = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall); #expect(ready) }
    }

    @Test func aWallClockJumpDoesNotShortenTheObservation() {
        // The wall clock leaps a day ahead: the observation clause (monotonic) still waits.
        var clock = FakeClock()
        var t = StabilityTracker(stableSeconds: 4)
        let f = file(size: 10, mtime: clock.wall)
        _ = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall)
        clock.wall += 86400
        clock.monotonic += 1
        do { let ready = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
    }

    @Test func emptyFilesAreNeverReady() {
        var clock = FakeClock()
        var t = StabilityTracker(stableSeconds: 1)
        let f = file(size: 0, mtime: clock.wall - 3600)
        _ = t.observe("e", f, monotonic: clock.monotonic, wall: clock.wall)
        clock.advance(1000)
        do { let ready = t.observe("e", f, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
    }

    @Test func aVanishedPathIsForgottenAndWaitsAgainWhenBack() {
        var clock = FakeClock()
        var t = StabilityTracker(stableSeconds: 4)
        let f = file(size: 10, mtime: clock.wall - 3600)
        _ = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall)
        clock.advance(3)
        t.keepOnly([])
        #expect(t.trackedCount == 0)
        _ = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall)
        clock.advance(3)
        do { let ready = t.observe("a", f, monotonic: clock.monotonic, wall: clock.wall); #expect(!ready) }
    }

    @Test func claimRule() {
        let id = FileIdentity(size: 1, mtimeNanoseconds: 2, inode: 3)
        let changed = FileIdentity(size: 2, mtimeNanoseconds: 2, inode: 3)
        func row(_ s: IngestStatus, holder: String? = nil, lease: Double? = nil) -> IngestFileState {
            IngestFileState(path: "p", identity: id, status: s, output: "p.ome.zarr", attempts: 1, holder: holder, leaseUntil: lease, updated: 0)
        }
        #expect(!IngestClaimRule.mayClaim(row(.done), identity: id, holder: "me", deadHolders: [], now: 0))
        #expect(!IngestClaimRule.mayClaim(row(.failed), identity: id, holder: "me", deadHolders: [], now: 0))
        #expect(IngestClaimRule.mayClaim(row(.failed), identity: changed, holder: "me", deadHolders: [], now: 0))
        #expect(IngestClaimRule.mayClaim(row(.done), identity: changed, holder: "me", deadHolders: [], now: 0))
        #expect(!IngestClaimRule.mayClaim(row(.converting, holder: "other", lease: 100), identity: id, holder: "me", deadHolders: [], now: 50))
        #expect(IngestClaimRule.mayClaim(row(.converting, holder: "other", lease: 100), identity: id, holder: "me", deadHolders: [], now: 101))
        #expect(IngestClaimRule.mayClaim(row(.converting, holder: "other", lease: 100), identity: id, holder: "me", deadHolders: ["other"], now: 50))
    }

    @Test func holderText() {
        let h = IngestHolder(host: "node:a", pid: 42, start: 1700)
        #expect(IngestHolder(h.text) == h)
        #expect(IngestHolder("garbage") == nil)
    }
}
