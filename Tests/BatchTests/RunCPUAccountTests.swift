import Foundation
import Storage
import Synchronization
import Testing

/// Items converting side by side in one process each get their own CPU seconds,
/// including the threads parallelFor takes for them.
@Suite(.serialized) struct RunCPUAccountTests {
    /// Deterministic CPU work the optimizer cannot drop.
    static func spin(_ rounds: Int, into sink: borrowing Atomic<UInt64>) {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<rounds { x = (x ^ (x >> 31)) &* 0xBF58_476D_1CE4_E5B9 &+ 1 }
        sink.add(x & 1, ordering: .relaxed)
    }

    static func processCPU() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    @Test func twoItemsSideBySideGetTheirOwnShare() throws {
        let sink = Atomic<UInt64>(0)
        let accounts = [CPUAccount(), CPUAccount()]
        let pieces = [8, 24]  // the second item does three times the work
        let rounds = 4_000_000
        let before = Self.processCPU()
        try parallelFor(2, width: 2) { item in
            try accounts[item].charge {
                // Each item fans out again, as a conversion does for its chunks.
                try parallelFor(pieces[item], width: 3) { _ in Self.spin(rounds, into: sink) }
            }
        }
        let total = Self.processCPU() - before
        let a = accounts[0].seconds, b = accounts[1].seconds
        #expect(a > 0 && b > 0)
        let ratio = b / a
        // Loose: a CPU-second buys less work when the core's sibling is busy (a shared machine).
        #expect(ratio > 2 && ratio < 4.5, "CPU in proportion to work: \(a) s and \(b) s")
        // Every thread's time is counted once: the two accounts make up the process's CPU
        // over that span (other suites may add a little of their own).
        #expect(a + b <= total * 1.05 + 0.02, "accounts \(a + b) s, process \(total) s")
        #expect(a + b >= total * 0.85, "accounts \(a + b) s, process \(total) s")
    }

    /// The caller's piece waits for the other piece, so that one must run on a thread
    /// parallelFor took: its CPU is the account's, though the caller's own thread idles.
    @Test func threadsParallelForTakesAreChargedToTheCallersAccount() throws {
        let sink = Atomic<UInt64>(0)
        let account = CPUAccount()
        let otherStarted = DispatchSemaphore(value: 0)
        let sawAccount = Mutex([Bool]())
        try account.charge {
            try parallelFor(2, width: 2) { i in
                sawAccount.withLock { $0.append(CPUAccount.current === account) }
                if i == 0 {
                    _ = otherStarted.wait(timeout: .now() + 30)
                } else {
                    otherStarted.signal()
                    Self.spin(40_000_000, into: sink)
                }
            }
        }
        #expect(sawAccount.withLock { $0 } == [true, true])
        #expect(account.seconds > 0.05, "the spinning piece's CPU: \(account.seconds) s")
    }

    @Test func workOutsideAnAccountIsNotCharged() throws {
        let sink = Atomic<UInt64>(0)
        let account = CPUAccount()
        try parallelFor(4, width: 2) { _ in Self.spin(1_000_000, into: sink) }
        #expect(account.seconds == 0)
        #expect(CPUAccount.current == nil)
        account.charge { #expect(CPUAccount.current === account) }
        #expect(CPUAccount.current == nil)
    }
}
