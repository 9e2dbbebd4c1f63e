import Synchronization

/// An in-memory store, for tests and for staging small documents.
public final class MemoryStore: Store {
    private let objects = Mutex<[String: [UInt8]]>([:])

    public init() {}

    public func get(_ key: String) throws -> [UInt8]? { objects.withLock { $0[key] } }

    public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
        guard let all = try get(key) else { return nil }
        return Array(all[range.resolve(size: all.count)])
    }

    public func size(_ key: String) throws -> Int? { objects.withLock { $0[key]?.count } }

    public func set(_ key: String, _ bytes: [UInt8]) throws {
        try StoreKey.validate(key)
        objects.withLock { $0[key] = bytes }
    }

    public func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        try StoreKey.validate(key)
        return objects.withLock { o in
            guard o[key] == nil else { return false }
            o[key] = bytes
            return true
        }
    }

    public func delete(_ key: String) throws { _ = objects.withLock { $0.removeValue(forKey: key) } }

    public func list(prefix: String) throws -> [StoreEntry] {
        objects.withLock { o in o.filter { $0.key.hasPrefix(prefix) }.map { StoreEntry(key: $0.key, size: $0.value.count) } }
    }

    public func describe(_ key: String) -> String { "memory:" + key }
}
