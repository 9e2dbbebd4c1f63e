import Synchronization

/// Identical work in flight runs once (single flight): whoever asks for `key` while its
/// work runs waits for that run's result instead of starting another. Nothing is kept once
/// it finishes (callers keep results where they need to: the render cache, the browse
/// index's cache). Used by renders (`RenderFlights`: a page of thumbnails opened by
/// several viewers at once) and by the browse index's walks (`BrowseIndex`: a burst of
/// first requests for `/`).
final class SingleFlight<Value: Sendable>: Sendable {
    private let flights = Mutex<[String: Task<Value, any Error>]>([:])

    init() {}

    /// The running work's value for `key` when there is one (`shared`), else `work`'s,
    /// run once for everyone who asks meanwhile. An error reaches every waiter.
    func run(_ key: String, _ work: @escaping @Sendable () async throws -> Value) async throws -> (value: Value, shared: Bool) {
        let (task, shared): (Task<Value, any Error>, Bool) = flights.withLock { flights in
            if let running = flights[key] { return (running, true) }
            let task = Task { try await work() }
            flights[key] = task
            return (task, false)
        }
        defer {
            if !shared { flights.withLock { $0[key] = nil } }
        }
        return (try await task.value, shared)
    }

    /// Keys in flight (tests).
    var count: Int { flights.withLock { $0.count } }
}
