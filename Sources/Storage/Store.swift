/// A flat key → bytes map (a folder, a bucket, memory), in the shape of zarrs' storage
/// traits and tensorstore's kvstore: nothing here knows about Zarr. Keys follow
/// `StoreKey`. Writes are atomic: a reader sees an object whole or not at all. Calls
/// block; callers run them on worker threads, not on an async executor.
///
/// Only the first block of requirements must be implemented; the rest have defaults
/// built on it, which stores override where they can do better (a ranged GET, a
/// conditional GET, a paged or delimited listing, a multipart upload).
public protocol Store: Sendable {
    /// The object, or nil if there is none.
    func get(_ key: String) throws -> [UInt8]?
    /// Part of the object (clipped to its size), or nil if there is none.
    func get(_ key: String, range: ByteRange) throws -> [UInt8]?
    /// The object's size, or nil if there is none.
    func size(_ key: String) throws -> Int?
    func set(_ key: String, _ bytes: [UInt8]) throws
    /// Stores an object whose presence vouches for objects written before it (a Zarr
    /// metadata document, a region's done-marker). A store that writes durably makes
    /// every earlier write survive power loss first (`FileStore.Durability`), so after a
    /// crash this object is never there without them; elsewhere it is `set`.
    func publish(_ key: String, _ bytes: [UInt8]) throws
    /// Stores the object only if there is none under `key`, atomically: of any number of
    /// callers (threads, processes, machines) exactly one gets true, and the object is
    /// never visible half-written. How cluster tasks claim a step without a lock server.
    func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool
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
    /// The object's size and validators, or nil if there is none.
    func head(_ key: String) throws -> ObjectInfo?
    /// The object (or `range` of it) with its size and validators, or nil if there is none.
    func read(_ key: String, range: ByteRange?) throws -> StoredObject?
    /// The object (or `range` of it) unless it is still the version `held` describes:
    /// S3 asks with If-None-Match, files compare identity and mtime.
    func getIfChanged(_ key: String, range: ByteRange?, held: ObjectInfo) throws -> ConditionalRead
    /// Every object whose key starts with `prefix`, handed over a page at a time (a
    /// bucket of millions of objects is never one array); `page` may throw to stop.
    func listPages(prefix: String, _ page: ([StoreEntry]) throws -> Void) throws
    /// One folder level ("" is the root): its objects and subfolder names, keys relative
    /// to the folder; nil if there is no such folder.
    func listFolder(_ folder: String) throws -> FolderListing?
    /// Those of `names` that are objects directly in `folder` (keys relative to it), as
    /// `listFolder` would list them, found without listing the folder: how a hierarchy
    /// walk looks for a node's metadata documents beside what may be a million chunks.
    func entries(named names: [String], in folder: String) throws -> [StoreEntry]
    /// A writer that takes the object in parts and makes it appear whole on `finish`
    /// (S3: a multipart upload; files: a temporary renamed into place).
    func writer(for key: String) throws -> any ObjectWriter
    /// What lies under `prefix` that `list` does not show — symbolic links, devices,
    /// pipes, sockets, folders that cannot be read. Writing a key through a linked folder
    /// would land outside the store, and deleting only the listed keys would leave these
    /// behind: `--overwrite` refuses them. Stores without such things return none.
    func unlistedEntries(prefix: String) -> [UnlistedEntry]
    /// Deletes the temporaries killed writers left behind; returns how many.
    @discardableResult
    func removeStaleTemporaries() -> Int
}

/// An object being written in parts; nothing is visible under its key until `finish`.
/// A writer dropped without `finish` leaves nothing behind (call `abort` to be sure now).
public protocol ObjectWriter {
    /// Appends bytes to the object.
    func append(_ bytes: [UInt8]) throws
    /// Makes the object appear whole.
    func finish() throws
    /// Gives up: nothing appears, and what was sent so far is removed.
    func abort()
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

    public func head(_ key: String) throws -> ObjectInfo? { try size(key).map { ObjectInfo(size: $0) } }

    /// An object store's PUT is durable when it returns: nothing more to order.
    public func publish(_ key: String, _ bytes: [UInt8]) throws { try set(key, bytes) }

    public func read(_ key: String, range: ByteRange?) throws -> StoredObject? {
        guard let info = try head(key) else { return nil }
        guard let bytes = try range.map({ try get(key, range: $0) }) ?? get(key) else { return nil }
        return StoredObject(bytes: bytes, info: info)
    }

    public func getIfChanged(_ key: String, range: ByteRange?, held: ObjectInfo) throws -> ConditionalRead {
        guard let info = try head(key) else { return .missing }
        if info.isSameVersion(as: held) { return .unchanged(info) }
        guard let object = try read(key, range: range) else { return .missing }
        return .changed(object)
    }

    public func listPages(prefix: String, _ page: ([StoreEntry]) throws -> Void) throws {
        try page(try list(prefix: prefix))
    }

    public func listFolder(_ folder: String) throws -> FolderListing? {
        let base = folder.isEmpty ? "" : folder + "/"
        var listing = FolderListing()
        var folders = Set<String>()
        try listPages(prefix: base) { page in
            for entry in page {
                let rest = entry.key.dropFirst(base.count)
                if let slash = rest.firstIndex(of: "/") {
                    folders.insert(String(rest[..<slash]))
                } else {
                    listing.objects.append(StoreEntry(key: String(rest), size: entry.size))
                }
            }
        }
        listing.folders = Array(folders)
        return listing.objects.isEmpty && listing.folders.isEmpty ? nil : listing
    }

    /// `entries(named:in:)` by asking each object's size.
    public func entries(named names: [String], in folder: String) throws -> [StoreEntry] {
        try names.compactMap { name in try size(joinKey(folder, name)).map { StoreEntry(key: name, size: $0) } }
    }

    public func writer(for key: String) throws -> any ObjectWriter { BufferingWriter(store: self, key: key) }

    public func unlistedEntries(prefix: String) -> [UnlistedEntry] { [] }

    @discardableResult
    public func removeStaleTemporaries() -> Int { 0 }

    /// Removes every object under `prefix`.
    public func deleteAll(prefix: String) throws {
        for entry in try list(prefix: prefix) { try delete(entry.key) }
    }
}

/// The streaming writer of a store that can only put whole objects: parts are gathered
/// in memory and stored with one `set` on `finish`.
final class BufferingWriter<S: Store>: ObjectWriter {
    let store: S
    let key: String
    private var bytes = [UInt8]()

    init(store: S, key: String) {
        self.store = store
        self.key = key
    }

    func append(_ part: [UInt8]) throws { bytes += part }
    func finish() throws { try store.set(key, bytes) }
    func abort() { bytes = [] }
}
