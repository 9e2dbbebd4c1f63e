import Foundation
import Synchronization

/// A store in a local folder: each key is a file path under `root`.
///
/// Writes go to a hidden temporary file in the destination folder and are renamed into
/// place, so a killed writer leaves either the old object, the new one, or a stray
/// temporary (never listed, removed by `removeStaleTemporaries`) — never half an object.
public final class FileStore: Store {
    public let root: URL
    let rootPath: String
    static let temporaryMarker = ".tessera-tmp-"
    private let counter = Atomic<Int>(0)

    public init(root: URL) {
        self.root = root.standardizedFileURL
        self.rootPath = self.root.path
    }

    public convenience init(path: String) { self.init(root: URL(fileURLWithPath: path)) }

    private func path(_ key: String) throws -> String {
        try validateKey(key)
        return rootPath + "/" + key
    }

    public func describe(_ key: String) -> String { key.isEmpty ? rootPath : rootPath + "/" + key }

    private func ioError(_ key: String, _ what: String) -> ZarrError {
        .storage(key: describe(key), reason: "\(what): \(String(cString: strerror(errno)))")
    }

    public func get(_ key: String) throws -> [UInt8]? { try read(key, range: nil, limit: nil) }

    public func get(_ key: String, range: ByteRange) throws -> [UInt8]? { try read(key, range: range, limit: nil) }

    /// The file's size is checked before anything is read or allocated.
    public func get(_ key: String, limit: Int) throws -> [UInt8]? { try read(key, range: nil, limit: limit) }

    /// Only regular files are objects. O_NONBLOCK makes opening a FIFO (or a device)
    /// return at once instead of waiting for a writer; it is then refused by type.
    private func read(_ key: String, range: ByteRange?, limit: Int?) throws -> [UInt8]? {
        let fd = open(try path(key), O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ioError(key, "cannot open")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError(key, "cannot stat") }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return nil
        case S_IFREG: break
        default: throw notRegular(key)
        }
        let size = Int(st.st_size)
        if let limit, size > limit { throw ObjectTooLarge(key: describe(key), size: size, limit: limit) }
        let span = (range ?? .from(0)).resolve(size: size)
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: span.count) { buf, initialized in
            var done = 0
            while done < span.count {
                let n = pread(fd, buf.baseAddress! + done, span.count - done, off_t(span.lowerBound + done))
                if n < 0 { if errno == EINTR { continue }; failed = true; break }
                if n == 0 { break }
                done += n
            }
            initialized = done
        }
        if failed { throw ioError(key, "cannot read") }
        guard bytes.count == span.count else {
            throw ZarrError.storage(key: describe(key), reason: "file shrank while being read")
        }
        return bytes
    }

    public func size(_ key: String) throws -> Int? {
        var st = stat()
        guard stat(try path(key), &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ioError(key, "cannot stat")
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return nil
        case S_IFREG: return Int(st.st_size)
        default: throw notRegular(key)
        }
    }

    private func notRegular(_ key: String) -> ZarrError {
        .storage(key: describe(key), reason: "not a regular file (a FIFO, socket or device cannot be a Zarr object)")
    }

    public func set(_ key: String, _ bytes: [UInt8]) throws {
        let target = try path(key)
        let slash = target.lastIndex(of: "/")!
        let folder = String(target[..<slash])
        let temporary = folder + "/" + Self.temporaryMarker + String(target[target.index(after: slash)...])
            + ".\(getpid()).\(counter.add(1, ordering: .relaxed).newValue)"
        var fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            try makeFolders(folder, key: key)
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw ioError(key, "cannot create") }
        let written = bytes.withUnsafeBytes { p -> Bool in
            var done = 0
            while done < p.count {
                let n = write(fd, p.baseAddress! + done, p.count - done)
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
        let error = written ? nil : ioError(key, "cannot write")
        close(fd)
        if let error { unlink(temporary); throw error }
        guard rename(temporary, target) == 0 else {
            let e = ioError(key, "cannot rename into place")
            unlink(temporary)
            throw e
        }
    }

    /// `mkdir -p` for the folder of `key`, reporting the first folder that fails.
    private func makeFolders(_ folder: String, key: String) throws {
        var path = ""
        for part in folder.split(separator: "/", omittingEmptySubsequences: false) {
            path += path.isEmpty && part.isEmpty ? "/" : (path.hasSuffix("/") || path.isEmpty ? "" : "/") + part
            if part.isEmpty { continue }
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw ZarrError.storage(key: describe(key), reason: "cannot create folder \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    public func delete(_ key: String) throws {
        guard unlink(try path(key)) == 0 || errno == ENOENT || errno == ENOTDIR else { throw ioError(key, "cannot delete") }
    }

    public func list(prefix: String) throws -> [StoreEntry] {
        var out = [StoreEntry]()
        // Walk only the folder the prefix names, then filter by the remainder.
        let folderKey = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        walk(folderKey.isEmpty ? rootPath : rootPath + "/" + folderKey, keyPrefix: folderKey.isEmpty ? "" : folderKey + "/") { key, size in
            if key.hasPrefix(prefix) { out.append(StoreEntry(key: key, size: size)) }
        }
        return out
    }

    /// What lies under `prefix` that `list` does not show — symbolic links, devices,
    /// pipes, sockets, folders that cannot be read — each as its key and what it is.
    /// Writing a key through a linked folder would land outside the store, and deleting
    /// only the listed keys would leave these behind: `--overwrite` refuses them.
    public func unlistedEntries(prefix: String) -> [(key: String, kind: String)] {
        var out = [(key: String, kind: String)]()
        let folderKey = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        walk(folderKey.isEmpty ? rootPath : rootPath + "/" + folderKey, keyPrefix: folderKey.isEmpty ? "" : folderKey + "/",
             { _, _ in }, unlisted: { key, kind in if key.hasPrefix(prefix) { out.append((key, kind)) } })
        return out
    }

    /// Depth-first walk with readdir/lstat; symlinks are not followed, temporaries skipped.
    /// `unlisted` hears of every entry not visited (and of folders that cannot be opened).
    private func walk(_ folder: String, keyPrefix: String, _ visit: (String, Int) -> Void,
                      unlisted: ((String, String) -> Void)? = nil) {
        guard let dir = opendir(folder) else {
            if !keyPrefix.isEmpty, errno != ENOENT, errno != ENOTDIR {
                unlisted?(String(keyPrefix.dropLast()), "a folder that cannot be read")
            }
            return
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." || name.hasPrefix(Self.temporaryMarker) { continue }
            let full = folder + "/" + name
            var st = stat()
            guard lstat(full, &st) == 0 else { unlisted?(keyPrefix + name, "an entry that cannot be examined"); continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: walk(full, keyPrefix: keyPrefix + name + "/", visit, unlisted: unlisted)
            case S_IFREG: visit(keyPrefix + name, Int(st.st_size))
            case S_IFLNK: unlisted?(keyPrefix + name, "a symbolic link")
            default: unlisted?(keyPrefix + name, "not a regular file")
            }
        }
    }

    /// Deletes temporaries a killed writer left behind; returns how many.
    @discardableResult
    public func removeStaleTemporaries() -> Int {
        var removed = 0
        func sweep(_ folder: String) {
            guard let dir = opendir(folder) else { return }
            var subfolders = [String]()
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name == "." || name == ".." { continue }
                let full = folder + "/" + name
                if name.hasPrefix(Self.temporaryMarker) { if unlink(full) == 0 { removed += 1 }; continue }
                var st = stat()
                if lstat(full, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { subfolders.append(full) }
            }
            closedir(dir)
            subfolders.forEach(sweep)
        }
        sweep(rootPath)
        return removed
    }
}
