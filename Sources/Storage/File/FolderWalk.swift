import Foundation

/// What a folder entry is, as `fstatat` tells without following links.
public enum FolderEntry: Equatable {
    case folder
    case file(size: Int)
    case symbolicLink
    /// A FIFO, socket or device.
    case other
    /// A temporary of an unfinished write (`StoreKey.temporaryMarker`; not examined).
    case temporary
    /// `fstatat` failed.
    case unexaminable
}

/// Calls `visit` with each entry of the folder open as `fd` (except `.` and `..`), then
/// closes it; false if `fd` is not a readable folder. The one folder reader: the
/// recursive walk, the gateway's folder index and the temporary sweep all use it.
/// `visit` may open an entry's subfolder with `openat(parent, …)` while it runs.
@discardableResult
public func readFolder(_ fd: Int32, _ visit: (_ parent: Int32, _ name: String, _ entry: FolderEntry) throws -> Void) rethrows -> Bool {
    guard let dir = fdopendir(fd) else { close(fd); return false }
    defer { closedir(dir) }
    let parent = dirfd(dir)
    while let raw = readdir(dir) {
        let name = withUnsafeBytes(of: raw.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name == "." || name == ".." { continue }
        if StoreKey.isTemporary(name) { try visit(parent, name, .temporary); continue }
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { try visit(parent, name, .unexaminable); continue }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: try visit(parent, name, .folder)
        case S_IFREG: try visit(parent, name, .file(size: Int(st.st_size)))
        case S_IFLNK: try visit(parent, name, .symbolicLink)
        default: try visit(parent, name, .other)
        }
    }
    return true
}

/// A subfolder of the folder open as `parent`, opened without following a link.
func openSubfolder(_ parent: Int32, _ name: String) -> Int32 {
    openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
}

extension FileStore {
    /// Depth-first walk of everything under the folder `folderKey` ("" for the root):
    /// `visit` hears of each regular file (key, size); `unlisted` of each entry not
    /// visited — links (never followed), devices, entries or folders that cannot be
    /// examined. Temporaries are skipped. A folder that is missing is empty.
    func walk(folder folderKey: String, _ visit: (String, Int) throws -> Void,
              unlisted: ((String, String) -> Void)? = nil) throws {
        let opened: Opened
        do { opened = try openBeneath(folderKey) } catch { return } // an unreadable root lists as empty, as it always has
        switch opened {
        case .missing: return
        case .outsideRoot: unlisted?(folderKey, "a symbolic link")
        case .failed: if !folderKey.isEmpty { unlisted?(folderKey, "a folder that cannot be read") }
        case let .descriptor(fd): try walk(fd, keyPrefix: folderKey.isEmpty ? "" : folderKey + "/", visit, unlisted: unlisted)
        }
    }

    private func walk(_ fd: Int32, keyPrefix: String, _ visit: (String, Int) throws -> Void,
                      unlisted: ((String, String) -> Void)?) throws {
        let readable = try readFolder(fd) { parent, name, entry in
            let key = keyPrefix + name
            switch entry {
            case .folder:
                let sub = openSubfolder(parent, name)
                if sub >= 0 { try walk(sub, keyPrefix: key + "/", visit, unlisted: unlisted) } else { unlisted?(key, "a folder that cannot be read") }
            case let .file(size): try visit(key, size)
            case .symbolicLink: unlisted?(key, "a symbolic link")
            case .other: unlisted?(key, "not a regular file")
            case .unexaminable: unlisted?(key, "an entry that cannot be examined")
            case .temporary: break
            }
        }
        if !readable, !keyPrefix.isEmpty { unlisted?(String(keyPrefix.dropLast()), "a folder that cannot be read") }
    }

    /// Every object whose key starts with `prefix`, a page at a time.
    public func listPages(prefix: String, _ page: ([StoreEntry]) throws -> Void) throws {
        var entries = [StoreEntry]()
        // Walk only the folder the prefix names, then filter by the remainder.
        try walk(folder: StoreKey.folder(of: prefix)) { key, size in
            guard key.hasPrefix(prefix) else { return }
            entries.append(StoreEntry(key: key, size: size))
            if entries.count == Self.pageSize { try page(entries); entries.removeAll(keepingCapacity: true) }
        }
        if !entries.isEmpty { try page(entries) }
    }

    /// Entries handed over per page by `listPages` (`ListPageSize`).
    static let pageSize = ListPageSize.requested() ?? ListPageSize.standard

    public func list(prefix: String) throws -> [StoreEntry] {
        var out = [StoreEntry]()
        try listPages(prefix: prefix) { out += $0 }
        return out
    }

    public func unlistedEntries(prefix: String) -> [UnlistedEntry] {
        var out = [UnlistedEntry]()
        try? walk(folder: StoreKey.folder(of: prefix), { _, _ in }) { key, kind in
            if key.hasPrefix(prefix) { out.append(UnlistedEntry(key: key, kind: kind)) }
        }
        return out
    }

    /// One folder level, symlinks neither listed nor followed; nil if there is no folder
    /// `folder` (or it leaves the root).
    public func listFolder(_ folder: String) throws -> FolderListing? {
        guard case let .descriptor(fd) = try openBeneath(folder) else { return nil }
        return listFolder(descriptor: fd)
    }

    /// The folder open as `fd` (closed when done), one level; nil if it is not a folder.
    public func listFolder(descriptor fd: Int32) -> FolderListing? {
        var listing = FolderListing()
        let readable = readFolder(fd) { _, name, entry in
            switch entry {
            case .folder: listing.folders.append(name)
            case let .file(size): listing.objects.append(StoreEntry(key: name, size: size))
            default: break
            }
        }
        return readable ? listing : nil
    }

    /// Those of `names` that `listFolder(folder)` would list as objects, found without
    /// reading the folder (which may hold a million chunks): one `fstatat` each beneath
    /// the folder's descriptor, links not followed.
    public func entries(named names: [String], in folder: String) throws -> [StoreEntry] {
        guard case let .descriptor(fd) = try openBeneath(folder) else { return [] }
        defer { close(fd) }
        return names.compactMap { name in
            var st = stat()
            guard !name.contains("/"), !name.hasPrefix(StoreKey.temporaryMarker),
                  fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
            return StoreEntry(key: name, size: Int(st.st_size))
        }
    }

    @discardableResult
    public func removeStaleTemporaries() -> Int {
        var removed = 0
        func sweep(_ fd: Int32) {
            readFolder(fd) { parent, name, entry in
                switch entry {
                case .temporary: if unlinkat(parent, name, 0) == 0 { removed += 1 }
                case .folder: let sub = openSubfolder(parent, name); if sub >= 0 { sweep(sub) }
                default: break
                }
            }
        }
        if case let .descriptor(fd)? = try? openBeneath("") { sweep(fd) }
        return removed
    }
}
