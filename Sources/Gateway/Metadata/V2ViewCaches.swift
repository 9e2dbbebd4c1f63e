import Storage
import Synchronization
import ZarrCore

/// Values kept for a short lifetime, misses (nil) included, at most `maximumEntries` of
/// them: the v2 view's parsed node documents, read once per lifetime instead of once per
/// chunk. Keys come from request paths, so the bound matters; when full, expired entries
/// go first, then all.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry { let made: ContinuousClock.Instant; let value: Value? }
    private let entries = Mutex<[Key: Entry]>([:])
    let lifetime: Duration
    let maximumEntries: Int

    init(lifetime: Duration, maximumEntries: Int) {
        self.lifetime = lifetime
        self.maximumEntries = maximumEntries
    }

    /// The cached value for `key`, or `make`'s (run outside the lock; two callers may
    /// both run it, which costs a second read and nothing else).
    func value(for key: Key, make: () throws -> Value?) throws -> Value? {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[key] }), now - entry.made < lifetime { return entry.value }
        let value = try make()
        entries.withLock { entries in
            if entries.count >= maximumEntries { entries = entries.filter { now - $0.value.made < lifetime } }
            if entries.count >= maximumEntries { entries.removeAll() }
            entries[key] = Entry(made: now, value: value)
        }
        return value
    }
}

/// Decoded shard indexes, so a v2 chunk costs one ranged read of its shard. Each index
/// keeps the shard version (`ObjectInfo`) it was read from; the reader compares that with
/// the version its ranged read saw and reloads the index when the shard was replaced,
/// so entries need no lifetime. Bounded by the number of index entries held (each is a
/// few dozen bytes); when over, indexes are dropped until under.
final class ShardIndexCache: Sendable {
    struct Index: Sendable {
        let entries: [ShardingCodec.Entry?]
        let info: ObjectInfo
    }

    private struct State {
        var indexes: [String: Index] = [:]
        var held = 0
    }

    private let state = Mutex(State())
    let maximumEntries: Int

    init(maximumEntries: Int) { self.maximumEntries = maximumEntries }

    /// Index entries held (for tests).
    var heldEntries: Int { state.withLock { $0.held } }

    /// The index of the shard under `key`: cached unless `refresh`, else from `load`
    /// (nil: there is no such shard; not cached).
    func index(of key: String, refresh: Bool, load: () throws -> Index?) throws -> Index? {
        if !refresh, let index = state.withLock({ $0.indexes[key] }) { return index }
        guard let index = try load() else {
            forget(key)
            return nil
        }
        state.withLock { state in
            if let old = state.indexes.removeValue(forKey: key) { state.held -= old.entries.count }
            guard index.entries.count <= maximumEntries else { return }
            while state.held + index.entries.count > maximumEntries, let victim = state.indexes.first {
                state.indexes.removeValue(forKey: victim.key)
                state.held -= victim.value.entries.count
            }
            state.indexes[key] = index
            state.held += index.entries.count
        }
        return index
    }

    func forget(_ key: String) {
        state.withLock { state in
            if let old = state.indexes.removeValue(forKey: key) { state.held -= old.entries.count }
        }
    }
}
