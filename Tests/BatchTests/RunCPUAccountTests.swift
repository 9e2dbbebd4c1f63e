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

    static let sink = Atomic<UInt64>(0)

    /// Compared on the same clock, not against time: each piece measures its own thread's
    /// CPU, and an account must hold at least what its pieces measured and none of the
    /// other item's. (Ratios of CPU seconds drift with a busy machine; this does not.)
    @Test func twoItemsSideBySideGetTheirOwnShare() throws {
        let pieces = [3, 18]           // a light item and a heavy one
        let rounds = [200_000, 2_000_000]
        let measured = Mutex<[Int64]>([0, 0])
        @Sendable func item(_ i: Int, _ account: CPUAccount) throws {
            try account.charge {
                // Each item fans out again, as a conversion does for its chunks.
                try parallelFor(pieces[i], width: 3) { _ in
                    let start = CPUAccount.threadCPUNanoseconds()
                    Self.spin(rounds[i], into: Self.sink)
                    let spent = CPUAccount.threadCPUNanoseconds() - start
                    measured.withLock { $0[i] += spent }
                }
            }
        }
        let accounts = [CPUAccount(), CPUAccount()]
        try parallelFor(2, width: 2) { i in try item(i, accounts[i]) }
        let own = measured.withLock { $0 }.map { Double($0) / 1e9 }
        for i in 0..<2 {
            // Every piece ran inside its account's charge, wherever its thread came from.
            #expect(accounts[i].seconds >= own[i] * 0.999, "item \(i): charged \(accounts[i].seconds) s, its pieces measured \(own[i]) s")
        }
        // The light item was not charged the heavy one's work (overhead is microseconds).
        #expect(accounts[0].seconds < own[0] + own[1] / 4, "light item charged \(accounts[0].seconds) s; pieces \(own[0]) s, heavy item's \(own[1]) s")
        #expect(accounts[1].seconds < own[1] + own[1] / 4 + own[0], "heavy item charged \(accounts[1].seconds) s; its pieces \(own[1]) s")
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
