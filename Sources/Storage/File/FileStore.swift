import Foundation
import Synchronization

/// A store in a local folder: each key is a file path under `root`.
///
/// Every read opens beneath a descriptor of the root (`OpenBeneath.swift`): a symbolic
/// link or `..` that leaves the root is refused in the kernel, for the converter and the
/// copier as for the gateway. Writes go to a hidden temporary file in the destination
/// folder and are renamed into place, so a killed writer leaves either the old object,
/// the new one, or a stray temporary (never listed, removed by `removeStaleTemporaries`)
/// — never half an object. A `synced` store (the default) also orders its writes to
/// survive power loss: see `Durability`.
public final class FileStore: Store {
    public let root: URL
    let rootPath: String
    /// The root folder's descriptor, or -1 until it is opened: the converter's output
    /// root may not exist when the store is made, so it is opened on first use.
    let rootFD = Atomic<Int32>(-1)
    let counter = Atomic<Int>(0)
    public let durability: Durability
    /// Folders whose entries changed since they were last flushed (`Durability`).
    let changedFolders = Mutex<Set<String>>([])

    public init(root: URL, durability: Durability = .synced) {
        self.root = root.standardizedFileURL
        self.rootPath = self.root.path
        self.durability = durability
    }

    public convenience init(path: String, durability: Durability = .synced) {
        self.init(root: URL(fileURLWithPath: path), durability: durability)
    }

    deinit {
        let fd = rootFD.load(ordering: .acquiring)
        if fd >= 0 { close(fd) }
    }

    /// The path of `key`, validated; for writes, which keep working by path.
    func path(_ key: String) throws -> String {
        try StoreKey.validate(key)
        return rootPath + "/" + key
    }

    public func describe(_ key: String) -> String { key.isEmpty ? rootPath : rootPath + "/" + key }

    func ioError(_ key: String, _ what: String, _ code: Int32 = errno) -> StorageError {
        .failed(key: describe(key), reason: "\(what): \(String(cString: strerror(code)))")
    }

    func notRegular(_ key: String) -> StorageError {
        .failed(key: describe(key), reason: "not a regular file (a FIFO, socket or device cannot be a Zarr object)")
    }

    // MARK: reading

    public func get(_ key: String) throws -> [UInt8]? { try read(key, range: nil)?.bytes }

    public func get(_ key: String, range: ByteRange) throws -> [UInt8]? { try read(key, range: range)?.bytes }

    /// The file's size is checked before anything is read or allocated.
    public func get(_ key: String, limit: Int) throws -> [UInt8]? {
        try withObject(key) { file in
            if file.info.size > limit { throw ObjectTooLarge(key: describe(key), size: file.info.size, limit: limit) }
            return try file.read(0..<file.info.size, key: key, store: self)
        }
    }

    public func read(_ key: String, range: ByteRange?) throws -> StoredObject? {
        try withObject(key) { file in
            let span = (range ?? .from(0)).resolve(size: file.info.size)
            return StoredObject(bytes: try file.read(span, key: key, store: self), info: file.info)
        }
    }

    public func getIfChanged(_ key: String, range: ByteRange?, held: ObjectInfo) throws -> ConditionalRead {
        try withObject(key) { file -> ConditionalRead in
            if file.info.isSameVersion(as: held) { return .unchanged(file.info) }
            let span = (range ?? .from(0)).resolve(size: file.info.size)
            return .changed(StoredObject(bytes: try file.read(span, key: key, store: self), info: file.info))
        } ?? .missing
    }

    public func size(_ key: String) throws -> Int? { try head(key)?.size }

    public func head(_ key: String) throws -> ObjectInfo? { try withObject(key) { $0.info } }

    /// `body` with the regular file under `key` open, or nil when there is none (a folder
    /// is none); a FIFO, socket or device is an error.
    private func withObject<T>(_ key: String, _ body: (OpenedFile) throws -> T) throws -> T? {
        try StoreKey.validate(key)
        guard let file = try openObject(key) else { return nil }
        defer { close(file.fd) }
        return try body(file)
    }
}
