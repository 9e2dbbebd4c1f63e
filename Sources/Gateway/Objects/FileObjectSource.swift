import CPlatform
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import ZarrCore

/// A root in a local folder.
///
/// Every open goes through `tessera_open_beneath`, relative to a descriptor of the root
/// taken at start: `..`, absolute paths and symlinks that leave the root fail in the
/// kernel, whatever the path looks like. Opens never wait (`O_NONBLOCK`: a FIFO would
/// otherwise hold the thread until a writer comes) and only regular files are served. Small reads happen inline (a page-cache read
/// costs less than a thread hop, which is where per-request file serving loses its
/// time); large bodies are read in pieces on NIO's blocking pool as the socket drains.
public final class FileObjectSource: ObjectSource {
    public let location: String
    private let rootFD: Int32
    /// Objects up to this size are read inline into one buffer.
    static let inlineLimit = 1 << 20
    /// Bodies from this size on leave by sendfile on the fast path (no copy through user
    /// space, which a profile of 64 KiB chunks showed costing a third of the CPU); smaller
    /// ones are read into the buffer that carries the response head: one write syscall.
    static let sendfileThreshold = 32 << 10
    /// Piece size for streamed bodies.
    static let pieceSize = 256 << 10

    public init(path: String) throws {
        location = path
        rootFD = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else {
            throw ZarrError.storage(key: path, reason: "cannot open the root folder: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(rootFD) }

    /// A descriptor for `key` beneath the root, or nil when there is nothing to serve.
    private func openBeneath(_ key: String) throws -> Int32? {
        // The root itself is reopened, not dup'ed: a dup shares the directory read
        // position, so a second listing of the root would come back empty.
        let fd = key.isEmpty ? openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : tessera_open_beneath(rootFD, key)
        if fd >= 0 { return fd }
        switch errno {
        // Missing, or a path that leaves the root (EXDEV, ELOOP): both are plain 404s. So
        // are sockets (ENXIO) and devices without a driver: only regular files are served.
        case ENOENT, ENOTDIR, EXDEV, ELOOP, ENAMETOOLONG, EACCES, EPERM, ENXIO, ENODEV, EAGAIN: return nil
        case EMFILE, ENFILE: throw DescriptorsExhausted(key: location + "/" + key)
        default: throw ZarrError.storage(key: location + "/" + key, reason: String(cString: strerror(errno)))
        }
    }

    public func open(_ key: String) async throws -> (any OpenedObject)? { try openNow(key) }

    /// `open` without suspending: page-cache opens are cheaper than any hop.
    func openNow(_ key: String) throws -> FileObject? {
        try openFile(key).map { FileObject($0, path: location + "/" + key) }
    }

    /// The regular file under `key`, opened; the caller owns (and closes) the descriptor.
    /// The fast path uses this directly: no object, no path string, per request.
    func openFile(_ key: String) throws -> OpenFile? {
        guard !key.isEmpty, let fd = try openBeneath(key) else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { close(fd); return nil }
        return OpenFile(fd: fd, stat: st)
    }

    public func listFolder(_ key: String) async throws -> FolderListing? {
        guard let fd = try openBeneath(key) else { return nil }
        guard let dir = fdopendir(fd) else { close(fd); return nil }
        defer { closedir(dir) }
        var listing = FolderListing(objects: [], folders: [])
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." || name.hasPrefix(".tessera-tmp-") { continue }
            var st = stat()
            guard fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: listing.folders.append(name)
            case S_IFREG: listing.objects.append(StoreEntry(key: name, size: Int(st.st_size)))
            default: continue // symlinks are not followed by listings
            }
        }
        listing.objects.sort { $0.key < $1.key }
        listing.folders.sort()
        return listing
    }
}

/// An open regular file and what `fstat` said of it. A plain value: whoever holds it
/// closes `fd` (FileObject on deinit, the fast path once the answer is written).
struct OpenFile {
    let fd: Int32
    let size: Int
    let validators: Validators

    init(fd: Int32, stat st: stat) {
        self.fd = fd
        size = Int(st.st_size)
        let nanos = Int(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(st.st_mtim.tv_nsec)
        // Identity, size and nanosecond mtime: writers replace files by rename, so any new
        // content has a new inode and the tag changes with it. The identity is hashed
        // (`hidden`): tags are valid for one server run.
        validators = Validators(etag: Self.etag(inode: Self.hidden(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)),
                                                size: UInt64(size), nanos: UInt64(bitPattern: Int64(nanos))),
                                lastModified: Int(st.st_mtim.tv_sec))
    }

    /// The file's identity as a keyed hash (SipHash with this process's random seed), so
    /// tags do not reveal inode numbers; a tag changes with the identity all the same.
    static func hidden(device: UInt64, inode: UInt64) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(device)
        hasher.combine(inode)
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }

    /// `"inode-size-mtime"` in lower-case hex, written directly (one String per file response).
    static func etag(inode: UInt64, size: UInt64, nanos: UInt64) -> String {
        String(unsafeUninitializedCapacity: 3 * 16 + 4) { out in
            var i = 0
            func hex(_ value: UInt64) {
                let digits = max(1, (64 - value.leadingZeroBitCount + 3) / 4)
                for k in stride(from: digits - 1, through: 0, by: -1) {
                    let nibble = UInt8((value >> (4 * UInt64(k))) & 0xF)
                    out[i] = nibble < 10 ? 48 + nibble : 87 + nibble
                    i += 1
                }
            }
            out[i] = UInt8(ascii: "\""); i += 1
            hex(inode); out[i] = UInt8(ascii: "-"); i += 1
            hex(size); out[i] = UInt8(ascii: "-"); i += 1
            hex(nanos); out[i] = UInt8(ascii: "\""); i += 1
            return i
        }
    }

    /// `range` appended to `buffer` with pread; a file that shrank underneath is an error,
    /// never a short body under a longer Content-Length. `path` names it in the error.
    func read(_ range: Range<Int>, into buffer: inout ByteBuffer, path: @autoclosure () -> String) throws {
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: range.count) { raw in
            var done = 0
            while done < range.count {
                let n = pread(fd, raw.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                if n == 0 { failure = EIO; break }
                done += n
            }
            return failure == 0 ? done : 0
        }
        if failure != 0 {
            throw ZarrError.storage(key: path(), reason: failure == EIO ? "file shrank while being served" : String(cString: strerror(failure)))
        }
    }
}

/// An open file for the responder; the descriptor closes when the last reference (the
/// response body) goes.
final class FileObject: OpenedObject {
    let file: OpenFile
    let path: String
    var size: Int { file.size }
    var validators: Validators { file.validators }

    init(_ file: OpenFile, path: String) {
        self.file = file
        self.path = path
    }

    deinit { close(file.fd) }

    func body(_ range: Range<Int>) async throws -> ResponseBody {
        if range.count <= FileObjectSource.inlineLimit {
            return ResponseBody(byteBuffer: try read(range))
        }
        return ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            while offset < range.upperBound {
                let piece = offset..<min(range.upperBound, offset + FileObjectSource.pieceSize)
                let buffer = try await NIOThreadPool.singleton.runIfActive { try self.read(piece) }
                try await writer.write(buffer)
                offset = piece.upperBound
            }
            try await writer.finish(nil)
        }
    }

    /// `range` read with pread into a fresh buffer.
    func read(_ range: Range<Int>) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: range.count)
        try file.read(range, into: &buffer, path: path)
        return buffer
    }
}
