import Storage

/// What one walk of a hierarchy may cost: metadata documents opened (a folder probed for
/// a node and found to hold none counts as one, as a missing document did), bytes read
/// from them, and time. A store holds as many nodes as its writer chose, so a walk on
/// someone else's store is bounded; past a bound it stops with `WalkTooCostly`.
public struct WalkLimits: Sendable {
    public var documents: Int
    public var bytes: Int
    public var time: Duration
    /// No single document larger than this is read (nor copied into a generated one).
    public var documentBytes: Int { min(bytes, 1 << 20) }

    public init(documents: Int, bytes: Int, time: Duration) {
        self.documents = documents
        self.bytes = bytes
        self.time = time
    }
}

/// Why a walk stopped before it was done.
public struct WalkTooCostly: Error, CustomStringConvertible {
    public let description: String
}

/// A walk of the Zarr hierarchy under one group, through a `Store`. It looks in each
/// subfolder of a group for the node documents it asks for by name (`entries(named:in:)`,
/// which does not read the folder: an array's folder may hold a million chunks) and lists
/// only groups' folders, one level, to find their subfolders; so the cost follows the
/// number of arrays and groups, never the chunks. It reads only documents the store
/// reports as objects (a folder store does not report symbolic links), so a walk never
/// reads through a link, even one that would leave the root. One walk, one thread.
public final class HierarchyWalk {
    public let store: any Store
    /// The group's key ("" for the store's root); paths below are relative to it.
    public let group: String
    public let limits: WalkLimits
    private let deadline: ContinuousClock.Instant
    private var documents = 0
    private var bytes = 0

    public init(store: any Store, group: String, limits: WalkLimits) {
        self.store = store
        self.group = group
        self.limits = limits
        deadline = .now + limits.time
    }

    /// One folder level under the group ("" is the group's own folder).
    public func list(_ path: String) throws -> FolderListing {
        try checkTime()
        return (try store.listFolder(joinKey(group, path)) ?? FolderListing()).sorted()
    }

    /// The document `name` of the folder at `path`, parsed, if `objects` (that folder's
    /// listing) shows it; nil if it does not, or if it is not JSON. Its listed size is
    /// charged before it is read.
    public func document(_ path: String, _ name: String, listed objects: [StoreEntry]) throws -> JSONValue? {
        guard let entry = objects.first(where: { $0.key == name }) else { return nil }
        try open()
        let key = joinKey(group, path, name)
        try charge(entry.size, key: key)
        let found: [UInt8]?
        do { found = try store.get(key, limit: limits.documentBytes) } catch is ObjectTooLarge {
            throw WalkTooCostly(description: "'\(key)' has more than \(limits.documentBytes) bytes")
        }
        guard let found else { return nil }
        return try? JSONValue.parse(found, key: store.describe(key))
    }

    /// Charges `size` bytes read from `key` (by the walk, or by its caller for it).
    public func charge(_ size: Int, key: String) throws {
        if size > limits.documentBytes { throw WalkTooCostly(description: "'\(key)' has \(size) bytes") }
        bytes = saturatingAdd(bytes, max(0, size))
        if bytes > limits.bytes { throw WalkTooCostly(description: "more than \(limits.bytes) bytes of metadata") }
    }

    /// Visits the folders `folders` of the group's folder and, depth first, the subfolders
    /// of each folder `visit` says is a group: `visit` gets each one's path (relative to
    /// the group) and which of `names` it holds, reads its documents, and returns whether
    /// to descend (only then is the folder listed). Iterative, so a deep hierarchy does
    /// not deepen the stack.
    public func walk(_ folders: [String], names: [String], visit: (_ path: String, _ objects: [StoreEntry]) throws -> Bool) throws {
        var pending = Array(folders.reversed())
        while let path = pending.popLast() {
            try checkTime()
            let objects = try store.entries(named: names, in: joinKey(group, path))
            let opened = documents
            let descend = try visit(path, objects)
            if documents == opened { try open() }
            if descend { pending += try list(path).folders.reversed().map { joinKey(path, $0) } }
        }
    }

    private func open() throws {
        documents += 1
        if documents > limits.documents { throw WalkTooCostly(description: "more than \(limits.documents) metadata documents") }
        try checkTime()
    }

    private func checkTime() throws {
        if ContinuousClock.now > deadline { throw WalkTooCostly(description: "longer than \(limits.time)") }
    }
}
