/// What a store knows of an object without reading it: its size and the validators that
/// tell one version of it from the next (an S3 entity tag; a file's identity and mtime).
public struct ObjectInfo: Sendable, Equatable {
    public var size: Int
    /// The entity tag as the store sent it (S3: quoted).
    public var etag: String?
    /// The modification date as the store sent it (S3: an HTTP date).
    public var lastModified: String?
    /// A file's identity and modification time (FileStore).
    public var file: FileVersion?

    public init(size: Int, etag: String? = nil, lastModified: String? = nil, file: FileVersion? = nil) {
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.file = file
    }

    /// Whether `other` describes the same version of the object: equal entity tags, or
    /// the same file identity, size and nanosecond mtime. Without validators, never.
    public func isSameVersion(as other: ObjectInfo) -> Bool {
        if let etag, let theirs = other.etag { return etag == theirs && size == other.size }
        if let file, let theirs = other.file { return file == theirs && size == other.size }
        return false
    }
}

/// A file's identity (device, inode) and modification time. Writers replace objects by
/// renaming a new file into place, so new content always comes with a new identity.
public struct FileVersion: Sendable, Equatable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    /// Seconds since the epoch, and the nanoseconds within that second.
    public var modifiedSeconds: Int
    public var modifiedNanoseconds: Int

    public init(device: UInt64, inode: UInt64, modifiedSeconds: Int, modifiedNanoseconds: Int) {
        self.device = device
        self.inode = inode
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
    }
}

/// An object's bytes (or the part asked for) with what the store knows of it.
public struct StoredObject: Sendable {
    public var bytes: [UInt8]
    public var info: ObjectInfo

    public init(bytes: [UInt8], info: ObjectInfo) {
        self.bytes = bytes
        self.info = info
    }
}

/// The answer to a conditional read (`Store.getIfChanged`).
public enum ConditionalRead: Sendable {
    /// No object under the key.
    case missing
    /// The object is still the version the caller holds.
    case unchanged(ObjectInfo)
    /// Another version: its bytes (or the part asked for) and info.
    case changed(StoredObject)
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

/// One folder level: the objects directly in it and the names of its subfolders.
public struct FolderListing: Sendable, Equatable {
    public var objects: [StoreEntry]
    public var folders: [String]

    public init(objects: [StoreEntry] = [], folders: [String] = []) {
        self.objects = objects
        self.folders = folders
    }

    /// Objects and folders in name order, as listings are shown.
    public func sorted() -> FolderListing {
        FolderListing(objects: objects.sorted { $0.key < $1.key }, folders: folders.sorted())
    }
}

/// Something `Store.list` does not show under a prefix (a symbolic link, a device, a
/// folder that cannot be read), as its key and what it is.
public struct UnlistedEntry: Sendable, Equatable {
    public var key: String
    public var kind: String
}
