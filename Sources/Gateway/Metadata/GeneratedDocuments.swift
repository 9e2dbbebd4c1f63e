import Foundation
import Synchronization

/// Generated consolidated metadata, kept for a few seconds: a viewer opening an image asks
/// for it once, but a page of viewers would otherwise each trigger a hierarchy walk.
/// Short-lived on purpose, so a finished conversion shows up without a restart.
final class GeneratedDocuments: Sendable {
    private struct Entry { var made: ContinuousClock.Instant; var object: MemoryObject? }
    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: Duration
    private static let maximumEntries = 4096

    init(lifetime: Duration = .seconds(5)) { self.lifetime = lifetime }

    /// The cached document for `id`, or a new one from `make` (nil: nothing to generate).
    func document(_ id: String, make: () async throws -> [UInt8]?) async throws -> MemoryObject? {
        let now = ContinuousClock.now
        if let hit = entries.withLock({ $0[id] }), now - hit.made < lifetime { return hit.object }
        let object = try await make().map(MemoryObject.init)
        entries.withLock { cache in
            if cache.count >= Self.maximumEntries { cache.removeAll(keepingCapacity: true) }
            cache[id] = Entry(made: now, object: object)
        }
        return object
    }
}
