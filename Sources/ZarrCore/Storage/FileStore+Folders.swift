import CPlatform
import Foundation

extension FileStore {
    /// One folder level, opened beneath the root and listed as `list` lists: symbolic
    /// links, devices, pipes and temporaries are not shown, so a walk that reads only what
    /// this lists never reads through a link out of the root. A folder that is missing, or
    /// that leaves the root, lists empty.
    public func listFolder(_ folder: String) throws -> (objects: [StoreEntry], folders: [String]) {
        guard let fd = try openFolder(folder) else { return ([], []) }
        guard let dir = fdopendir(fd) else { close(fd); return ([], []) }
        defer { closedir(dir) }
        var objects = [StoreEntry](), folders = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." || name.hasPrefix(Self.temporaryMarker) { continue }
            var st = stat()
            guard fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: folders.append(name)
            case S_IFREG: objects.append(StoreEntry(key: name, size: Int(st.st_size)))
            default: continue
            }
        }
        return (objects.sorted { $0.key < $1.key }, folders.sorted())
    }

    /// Those of `names` that `listFolder(folder)` would list as objects, found without
    /// reading the folder (which may hold a million chunks): one `fstatat` each, links not
    /// followed.
    public func entries(named names: [String], in folder: String) throws -> [StoreEntry] {
        guard let fd = try openFolder(folder) else { return [] }
        defer { close(fd) }
        return names.compactMap { name in
            var st = stat()
            guard !name.contains("/"), !name.hasPrefix(Self.temporaryMarker),
                  fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
            return StoreEntry(key: name, size: Int(st.st_size))
        }
    }

    /// A descriptor of `folder`, opened beneath the root (`tessera_open_beneath`: `..` and
    /// symlinks that leave the root fail in the kernel); nil when it is missing, not a
    /// folder, or leaves the root.
    private func openFolder(_ folder: String) throws -> Int32? {
        let rootFD = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ZarrError.storage(key: describe(folder), reason: "cannot open the root folder: \(String(cString: strerror(errno)))")
        }
        defer { close(rootFD) }
        if !folder.isEmpty { try validateKey(folder) }
        // The root itself is reopened, not the descriptor above reused: the caller closes it.
        let fd = folder.isEmpty ? openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : tessera_open_beneath(rootFD, folder)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR, EXDEV, ELOOP, ENXIO, ENODEV, EAGAIN: return nil
            default: throw ZarrError.storage(key: describe(folder), reason: "cannot open the folder: \(String(cString: strerror(errno)))")
            }
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { close(fd); return nil }
        return fd
    }
}
