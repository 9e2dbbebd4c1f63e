import Synchronization

/// Identical renders in flight run once (single flight): a page of thumbnails opened by
/// several viewers at once, or a reader retrying, waits for the render already running
/// for the same material instead of queueing another. Nothing is kept once it finishes
/// (the disk cache keeps thumbnails and quicklooks).
final class RenderFlights: Sendable {
    struct Picture: Sendable {
        var bytes: [UInt8]
        var contentType: String
        /// `subtract=`'s summary and the values' type, for the answer's headers.
        var subtraction: String? = nil
        var dataType: String? = nil
    }

    private let flights = Mutex<[String: Task<Picture, any Error>]>([:])

    /// The picture for `material`: the running render's when there is one (`shared`), else
    /// `work`'s, run once for everyone who asks meanwhile.
    func picture(_ material: String, _ work: @escaping @Sendable () async throws -> Picture) async throws -> (picture: Picture, shared: Bool) {
        let (task, shared): (Task<Picture, any Error>, Bool) = flights.withLock { flights in
            if let running = flights[material] { return (running, true) }
            let task = Task { try await work() }
            flights[material] = task
            return (task, false)
        }
        defer {
            if !shared { flights.withLock { $0[material] = nil } }
        }
        return (try await task.value, shared)
    }

    /// Renders in flight (tests).
    var count: Int { flights.withLock { $0.count } }
}
