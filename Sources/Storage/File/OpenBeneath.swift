import CPlatform
import Foundation

/// A regular file opened beneath a FileStore's root, with what `fstat` said of it. A
/// plain value: whoever holds it closes `fd`.
public struct OpenedFile: Sendable {
    public let fd: Int32
    public let info: ObjectInfo

    public init(fd: Int32, stat st: stat) {
        self.fd = fd
        info = ObjectInfo(size: Int(st.st_size), file: FileVersion(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino),
            modifiedSeconds: Int(st.st_mtim.tv_sec), modifiedNanoseconds: Int(st.st_mtim.tv_nsec)))
    }

    /// `range` of the file in a new array (see `readFully`).
    func read(_ range: Range<Int>, key: String, store: FileStore) throws -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            failure = readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), at: range.lowerBound)
            initialized = failure == 0 ? range.count : 0
        }
        switch failure {
        case 0: return bytes
        case fileShrank: throw StorageError.failed(key: store.describe(key), reason: "file shrank while being read")
        default: throw store.ioError(key, "cannot read", failure)
        }
    }
}

/// What `readFully` returns when the file ended before the buffer was full.
public let fileShrank: Int32 = -1

/// Fills `buffer` from `fd` at `offset` with pread, resuming after signals: 0 when it
/// is full, `fileShrank` when the file ended first (never a short object), else the
/// errno. The one positional read loop, for stores and the gateway alike.
public func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int32 {
    var done = 0
    while done < buffer.count {
        let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
        if n < 0 { if errno == EINTR { continue }; return errno }
        if n == 0 { return fileShrank }
        done += n
    }
    return 0
}

extension FileStore {
    /// The root folder's descriptor, opened on first use; nil while there is no root
    /// folder (nothing is stored yet).
    func rootDescriptor() throws -> Int32? {
        let fd = rootFD.load(ordering: .acquiring)
        if fd >= 0 { return fd }
        let opened = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard opened >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ioError("", "cannot open the root folder")
        }
        let (won, current) = rootFD.compareExchange(expected: -1, desired: opened, ordering: .acquiringAndReleasing)
        if won { return opened }
        close(opened)
        return current
    }

    /// Opens the root folder now, so a server learns at start that it is missing.
    public func openRoot() throws {
        guard try rootDescriptor() != nil else { throw ioError("", "cannot open the root folder", ENOENT) }
    }

    /// What `openBeneath` found.
    public enum Opened {
        case descriptor(Int32)
        /// Nothing there: missing, or a path through a file.
        case missing
        /// Not followed: a symbolic link or `..` that leaves the root (or a link loop).
        case outsideRoot
        /// Opening failed with this errno (permissions, descriptors exhausted...).
        case failed(Int32)
    }

    /// `key` ("" for the root itself) opened read-only and non-blocking beneath the root
    /// with `tessera_open_beneath`, the one routine every reader opens through: `..`,
    /// absolute paths and symlinks that leave the root fail in the kernel, whatever the
    /// path looks like. O_NONBLOCK makes opening a FIFO return at once instead of
    /// waiting for a writer. Throws only when the root folder cannot be opened.
    public func openBeneath(_ key: String) throws -> Opened {
        guard let root = try rootDescriptor() else { return .missing }
        // The root itself is reopened, not dup'ed: a dup shares the directory read
        // position, so a second listing of the root would come back empty.
        let fd = key.isEmpty ? openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : tessera_open_beneath(root, key)
        if fd >= 0 { return .descriptor(fd) }
        switch errno {
        case ENOENT, ENOTDIR: return .missing
        case EXDEV, ELOOP: return .outsideRoot
        case let code: return .failed(code)
        }
    }

    /// The regular file under `key`, opened (the caller closes it), or nil when there is
    /// none; a FIFO, socket or device is an error, and so is a path that leaves the root.
    public func openObject(_ key: String) throws -> OpenedFile? {
        let fd: Int32
        switch try openBeneath(key) {
        case .missing: return nil
        // A socket cannot be opened at all; it is no object either.
        case .failed(ENXIO): throw notRegular(key)
        case let .failed(code): throw ioError(key, "cannot open", code)
        case .outsideRoot:
            throw StorageError.failed(key: describe(key), reason: "not followed: a symbolic link or '..' that leaves the store's root")
        case let .descriptor(d): fd = d
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = ioError(key, "cannot stat")
            close(fd)
            throw error
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return OpenedFile(fd: fd, stat: st)
        case S_IFDIR: close(fd); return nil
        default: close(fd); throw notRegular(key)
        }
    }
}

