import Foundation
import Synchronization

/// Runs `body(0..<count)` on up to `width` threads and returns when all are done. The
/// first error stops the remaining items from starting and is rethrown. This is the one
/// place Tessera fans out blocking work (codecs, file I/O): plain threads, so C calls
/// never block Swift's cooperative pool. CPU the spawned threads spend is charged to the
/// caller's `CPUAccount`, if it has one.
public func parallelFor(_ count: Int, width: Int, _ body: @Sendable (Int) throws -> Void) throws {
    if count == 0 { return }
    let threads = max(1, min(width, count))
    if threads == 1 {
        for i in 0..<count { try body(i) }
        return
    }
    // Threads taken for this call work for whatever the caller's CPU is charged to.
    let account = CPUAccount.current
    let next = Atomic<Int>(0)
    let firstError = Mutex<(any Error)?>(nil)
    withoutActuallyEscaping(body) { body in
        let work: @Sendable () -> Void = {
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { return }
                if firstError.withLock({ $0 != nil }) { return }
                do { try body(i) } catch {
                    firstError.withLock { if $0 == nil { $0 = error } }
                    return
                }
            }
        }
        let group = DispatchGroup()
        let spawned: @Sendable () -> Void
        if let account {
            spawned = { account.charge(work) }
        } else {
            spawned = work
        }
        for _ in 1..<threads { DispatchQueue.global().async(group: group, execute: spawned) }
        work()
        group.wait()
    }
    if let error = firstError.withLock({ $0 }) { throw error }
}
