import Foundation

extension FileStore {
    public func set(_ key: String, _ bytes: [UInt8]) throws {
        let file = try TemporaryFile(store: self, key: key)
        do {
            try file.append(bytes)
            try file.finish()
        } catch {
            file.abort()
            throw error
        }
    }

    /// Written whole to a temporary beside the key, then hard-linked to the key: link(2)
    /// fails with EEXIST when anything is there, so exactly one of racing writers (on one
    /// machine or over NFS) links its copy, and none is ever seen half-written.
    public func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        let file = try TemporaryFile(store: self, key: key)
        do {
            try file.append(bytes)
            return try file.finishIfAbsent()
        } catch {
            file.abort()
            throw error
        }
    }

    public func delete(_ key: String) throws {
        let path = try path(key)
        if unlink(path) == 0 {
            let folder = parentFolder(path)
            folderChanged(folder)
            // A chunk manifest's folder holds only its batches: the last one deleted, the
            // folder goes too (rmdir refuses while any batch is left).
            if folder.hasSuffix("/" + StoreKey.manifestFolder), rmdir(folder) == 0 { folderChanged(parentFolder(folder)) }
            return
        }
        guard errno == ENOENT || errno == ENOTDIR else { throw ioError(key, "cannot delete") }
    }

    /// A temporary file beside `key`, renamed into place on `finish`.
    public func writer(for key: String) throws -> any ObjectWriter { try TemporaryFile(store: self, key: key) }

    /// `mkdir -p` for the folder of `key`, reporting the first folder that fails.
    func makeFolders(_ folder: String, key: String) throws {
        var path = ""
        for part in folder.split(separator: "/", omittingEmptySubsequences: false) {
            path += path.isEmpty && part.isEmpty ? "/" : (path.hasSuffix("/") || path.isEmpty ? "" : "/") + part
            if part.isEmpty { continue }
            if mkdir(path, 0o755) == 0 {
                folderChanged(parentFolder(path))
            } else if errno != EEXIST {
                throw StorageError.failed(key: describe(key), reason: "cannot create folder \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// An object being written: a hidden temporary in the destination folder (its folders
/// made as needed), renamed over the key when whole, unlinked when abandoned.
final class TemporaryFile: ObjectWriter {
    private let store: FileStore
    private let key: String
    private let target: String
    private let temporary: String
    private let folder: String
    private var fd: Int32

    init(store: FileStore, key: String) throws {
        self.store = store
        self.key = key
        target = try store.path(key)
        let slash = target.lastIndex(of: "/")!
        folder = String(target[..<slash])
        temporary = folder + "/" + StoreKey.temporaryMarker + String(target[target.index(after: slash)...])
            + ".\(getpid()).\(store.counter.add(1, ordering: .relaxed).newValue)"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            try store.makeFolders(folder, key: key)
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw store.ioError(key, "cannot create") }
    }

    deinit { abort() }

    func append(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw StorageError.failed(key: store.describe(key), reason: "written after it was finished") }
        let written = bytes.withUnsafeBytes { p -> Bool in
            var done = 0
            while done < p.count {
                let n = write(fd, p.baseAddress! + done, p.count - done)
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
        guard written else { throw store.ioError(key, "cannot write") }
    }

    func finish() throws {
        guard fd >= 0 else { throw StorageError.failed(key: store.describe(key), reason: "written after it was finished") }
        do { try store.flushData(fd, key: key) } catch { abort(); throw error }
        close(fd)
        fd = -1
        guard rename(temporary, target) == 0 else {
            let e = store.ioError(key, "cannot rename into place")
            unlink(temporary)
            throw e
        }
        store.folderChanged(folder)
    }

    /// Like `finish`, but leaves an existing object alone and says whether this one was put in place.
    func finishIfAbsent() throws -> Bool {
        guard fd >= 0 else { throw StorageError.failed(key: store.describe(key), reason: "written after it was finished") }
        do { try store.flushData(fd, key: key) } catch { abort(); throw error }
        close(fd)
        fd = -1
        defer {
            unlink(temporary)
            store.folderChanged(folder)
        }
        if link(temporary, target) == 0 { return true }
        if errno == EEXIST { return false }
        throw store.ioError(key, "cannot link into place")
    }

    func abort() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary)
    }
}
