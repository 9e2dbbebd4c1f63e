import NIOPosix
import Synchronization

/// Thrown when every render thread is busy and the queue is full: answered 503 with
/// `Retry-After`, never an unbounded backlog of CPU- and memory-heavy work.
struct RenderPoolBusy: Error {}

/// Where renders run: their own threads (never the event loops, never the blocking pool
/// that metadata and file reads use), at most `concurrency` at once, at most `queue`
/// more waiting; past that a request is refused at once (`RenderPoolBusy`).
final class RenderPool: Sendable {
    let concurrency: Int
    let queue: Int
    private let threads: NIOThreadPool

    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Bool, Never>] = []
    }

    private let state = Mutex(State())

    init(concurrency: Int, queue: Int) {
        self.concurrency = max(1, concurrency)
        self.queue = max(0, queue)
        threads = NIOThreadPool(numberOfThreads: self.concurrency)
        threads.start()
    }

    deinit { threads.shutdownGracefully { _ in } }

    /// Renders in flight and waiting (for tests and metrics).
    var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    /// Runs `work` on a render thread once a slot is free; throws `RenderPoolBusy` when
    /// all slots and the queue are taken.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await threads.runIfActive(work)
    }

    private func acquire() async throws {
        let admitted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let decision: Bool? = state.withLock { s in
                if s.running < concurrency { s.running += 1; return true }
                if s.waiting.count < queue { s.waiting.append(continuation); return nil }
                return false
            }
            if let decision { continuation.resume(returning: decision) }
        }
        if !admitted { throw RenderPoolBusy() }
    }

    /// Hands the slot to the first waiter, or frees it.
    private func release() {
        // The slot passes to the waiter as it is (`running` stays).
        let next: CheckedContinuation<Bool, Never>? = state.withLock { s in
            if s.waiting.isEmpty { s.running -= 1; return nil }
            return s.waiting.removeFirst()
        }
        next?.resume(returning: true)
    }
}
