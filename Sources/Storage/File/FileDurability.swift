import Foundation
import Synchronization

extension FileStore {
    /// What a finished write survives. Every write is atomic (a temporary renamed into
    /// place) either way; `synced` also makes it survive power loss, in this order:
    ///
    /// 1. each object's data is flushed (`fdatasync`) before its temporary is renamed
    ///    over the key, so a renamed object never turns up empty or torn after a crash;
    /// 2. the folders whose entries changed (an object renamed in or deleted, a subfolder
    ///    made) are remembered, not flushed one rename at a time;
    /// 3. `publish` — how Zarr metadata documents and done-markers are written — first
    ///    flushes (`fsync`) every remembered folder, then writes its own object as in 1,
    ///    then flushes that object's folder. A metadata document is therefore never on
    ///    disk without the objects it makes visible.
    ///
    /// The cost is one `fdatasync` per object and one `fsync` per touched folder per
    /// publish; `unsynced` (`--no-fsync`) skips both.
    public enum Durability: Sendable {
        case synced
        case unsynced
    }

    /// Flushes `fd`'s data to disk when this store is `synced`.
    func flushData(_ fd: Int32, key: String) throws {
        guard durability == .synced else { return }
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw ioError(key, "cannot flush to disk")
        }
    }

    /// Notes that `folder` (a path under the root) gained or lost an entry.
    func folderChanged(_ folder: String) {
        guard durability == .synced else { return }
        _ = changedFolders.withLock { $0.insert(folder) }
    }

    /// Flushes every folder whose entries changed since the last flush (step 3 above).
    func flushChangedFolders(key: String) throws {
        guard durability == .synced else { return }
        let folders = changedFolders.withLock { folders -> Set<String> in
            defer { folders.removeAll() }
            return folders
        }
        // Sorted so a failure names the same folder each run; the order is otherwise free.
        let sorted = folders.sorted()
        for (i, folder) in sorted.enumerated() {
            do {
                try flushFolder(folder, key: key)
            } catch {
                // Not flushed: remembered again, so the next publish retries them.
                changedFolders.withLock { $0.formUnion(sorted[i...]) }
                throw error
            }
        }
    }

    private func flushFolder(_ folder: String, key: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            // A folder removed since (an overwrite cleared it) has nothing left to flush.
            if errno == ENOENT { return }
            throw StorageError.failed(key: describe(key), reason: "cannot open folder \(folder) to flush it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw StorageError.failed(key: describe(key), reason: "cannot flush folder \(folder) to disk: \(String(cString: strerror(errno)))")
        }
    }

    public func publish(_ key: String, _ bytes: [UInt8]) throws {
        // The temporary first: the folders it makes are flushed with the others, so the
        // document's own path is on disk before the document is renamed onto it.
        let file = try TemporaryFile(store: self, key: key)
        do {
            try file.append(bytes)
            try flushChangedFolders(key: key)
            try file.finish()
        } catch {
            file.abort()
            throw error
        }
        try flushChangedFolders(key: key)
    }
}

/// The folder part of a path ("/a/b/c" → "/a/b").
func parentFolder(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}
