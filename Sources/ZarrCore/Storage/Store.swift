/// A byte range of a stored object, as HTTP and S3 express them.
public enum ByteRange: Sendable, Equatable {
    /// `length` bytes starting at `offset`.
    case slice(offset: Int, length: Int)
    /// From `offset` to the end.
    case from(Int)
    /// The last `n` bytes.
    case suffix(Int)

    /// The concrete range within an object of `size` bytes (clipped to it).
    public func resolve(size: Int) -> Range<Int> {
        switch self {
        case let .slice(o, l): let lo = min(max(0, o), size); return lo..<min(size, lo + max(0, l))
        case let .from(o): return min(max(0, o), size)..<size
        case let .suffix(n): return max(0, size - max(0, n))..<size
        }
    }
}

/// One listed object.
public struct StoreEntry: Sendable, Equatable {
    public var key: String
    public var size: Int
    public init(key: String, size: Int) {
        self.key = key
        self.size = size
    }
}

/// A flat key → bytes map (a folder, a bucket, memory), the storage half of the
/// storage/format split: nothing here knows about Zarr. Keys are `/`-separated with no
/// leading slash. Writes are atomic: a reader sees an object whole or not at all.
/// Calls block; callers run them on worker threads, not on an async executor.
public protocol Store: Sendable {
    /// The object, or nil if there is none.
    func get(_ key: String) throws -> [UInt8]?
    /// Part of the object (clipped to its size), or nil if there is none.
    func get(_ key: String, range: ByteRange) throws -> [UInt8]?
    /// The object's size, or nil if there is none.
    func size(_ key: String) throws -> Int?
    func set(_ key: String, _ bytes: [UInt8]) throws
    /// Removes the object; removing a missing one is not an error.
    func delete(_ key: String) throws
    /// Every object whose key starts with `prefix`, in no particular order.
    func list(prefix: String) throws -> [StoreEntry]
    /// A human-readable location of `key` for messages (a path, a URL).
    func describe(_ key: String) -> String
    /// The object if it has at most `limit` bytes, or nil if there is none; a larger one
    /// throws `ObjectTooLarge` without being read whole. Reading what untrusted metadata
    /// allows, and no more, goes through here.
    func get(_ key: String, limit: Int) throws -> [UInt8]?
    /// One folder level ("" is the root): the objects directly in it (keys relative to
    /// the folder) and the names of its subfolders, without walking beneath them; empty
    /// when there is no such folder. A hierarchy walk lists groups' folders this way, so
    /// its cost follows the nodes, not the chunks beneath them.
    func listFolder(_ folder: String) throws -> (objects: [StoreEntry], folders: [String])
    /// Those of `names` that are objects directly in `folder` (keys relative to it), as
    /// `listFolder` would list them, found without listing the folder: how a walk looks
    /// for a node's metadata documents beside what may be a million chunks.
    func entries(named names: [String], in folder: String) throws -> [StoreEntry]
}

/// An object larger than its reader allows (see `Store.get(_:limit:)`).
public struct ObjectTooLarge: Error, CustomStringConvertible {
    public var key: String
    /// The object's size when the store knows it without reading.
    public var size: Int?
    public var limit: Int

    public var description: String {
        "\(size.map { "\($0) bytes" } ?? "more bytes"), over the \(limit) allowed"
    }
}

extension Store {
    public func exists(_ key: String) throws -> Bool { try size(key) != nil }

    /// One ranged read of `limit + 1` bytes: the extra byte tells an object that is too
    /// large, without transferring more of it.
    public func get(_ key: String, limit: Int) throws -> [UInt8]? {
        let limit = max(0, min(limit, Int.max - 1))
        guard let bytes = try get(key, range: .slice(offset: 0, length: limit + 1)) else { return nil }
        guard bytes.count <= limit else { throw ObjectTooLarge(key: describe(key), size: nil, limit: limit) }
        return bytes
    }

    /// `listFolder` from the full listing under the folder, for stores without a cheaper way.
    public func listFolder(_ folder: String) throws -> (objects: [StoreEntry], folders: [String]) {
        let prefix = folder.isEmpty ? "" : folder + "/"
        var objects = [StoreEntry](), folders = Set<String>()
        for entry in try list(prefix: prefix) {
            let rest = entry.key.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/") {
                folders.insert(String(rest[..<slash]))
            } else {
                objects.append(StoreEntry(key: String(rest), size: entry.size))
            }
        }
        return (objects.sorted { $0.key < $1.key }, folders.sorted())
    }

    /// `entries(named:in:)` by asking each object's size.
    public func entries(named names: [String], in folder: String) throws -> [StoreEntry] {
        try names.compactMap { name in try size(joinKey(folder, name)).map { StoreEntry(key: name, size: $0) } }
    }

    /// Removes every object under `prefix`.
    public func deleteAll(prefix: String) throws {
        for entry in try list(prefix: prefix) { try delete(entry.key) }
    }
}

/// Joins key segments, ignoring empty ones: `joinKey("", "0", ".zarray") == "0/.zarray"`.
public func joinKey(_ parts: String...) -> String {
    parts.flatMap { $0.split(separator: "/") }.joined(separator: "/")
}

/// Rejects keys that could address something outside a store's root.
func validateKey(_ key: String) throws {
    let parts = key.split(separator: "/", omittingEmptySubsequences: false)
    guard !key.isEmpty, !key.hasPrefix("/"), !key.contains("\0"),
          !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
        throw ZarrError.invalidRequest("'\(key)' is not a valid store key")
    }
}
