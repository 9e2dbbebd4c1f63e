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

    @Test func twoItemsSideBySideGetTheirOwnShare() throws {
        let pieces = [6, 18]  // the second item does three times the work
        let rounds = 2_000_000
        @Sendable func item(_ i: Int, _ account: CPUAccount) throws {
            try account.charge {
                // Each item fans out again, as a conversion does for its chunks.
                try parallelFor(pieces[i], width: 3) { _ in Self.spin(rounds, into: Self.sink) }
            }
        }
        // Each item alone first: what its work costs on this machine now.
        let alone = [CPUAccount(), CPUAccount()]
        for i in 0..<2 { try item(i, alone[i]) }
        let accounts = [CPUAccount(), CPUAccount()]
        try parallelFor(2, width: 2) { i in try item(i, accounts[i]) }
        let a = accounts[0].seconds, b = accounts[1].seconds
        #expect(a > 0 && b > 0)
        // Loose: a CPU-second buys less work when the core's sibling is busy (a shared machine).
        #expect(b / a > 2 && b / a < 4.5, "CPU in proportion to work: \(a) s and \(b) s")
        // Side by side, each item is charged what it costs alone: no thread's time is lost
        // or given to the other item. (The process's getrusage would include whatever other
        // suites run at the same time.)
        for i in 0..<2 {
            let ratio = accounts[i].seconds / alone[i].seconds
            #expect(ratio > 0.6 && ratio < 1.6, "item \(i): \(accounts[i].seconds) s side by side, \(alone[i].seconds) s alone")
        }
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
