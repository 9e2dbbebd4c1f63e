import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Storage
import ZarrCore

/// A root in a local folder: a thin adapter over `FileStore`, whose open-beneath routine
/// every open goes through (`..`, absolute paths and symlinks that leave the root fail in
/// the kernel). Opens never wait (`O_NONBLOCK`: a FIFO would otherwise hold the thread
/// until a writer comes) and only regular files are served. Small reads happen inline (a
/// page-cache read costs less than a thread hop, which is where per-request file serving
/// loses its time); large bodies are read in pieces on NIO's blocking pool as the socket
/// drains.
public final class FileObjectSource: ObjectSource {
    public let location: String
    let store: FileStore
    /// Objects up to this size are read inline into one buffer.
    static let inlineLimit = 1 << 20
    /// Bodies from this size on leave by sendfile on the fast path (no copy through user
    /// space, which a profile of 64 KiB chunks showed costing a third of the CPU); smaller
    /// ones are read into the buffer that carries the response head: one write syscall.
    static let sendfileThreshold = 32 << 10
    /// Piece size for streamed bodies.
    static let pieceSize = 256 << 10

    /// Opens the root now: a missing folder fails at start, naming it.
    public init(path: String) throws {
        location = path
        store = FileStore(path: path)
        do { try store.openRoot() } catch let StorageError.failed(_, reason) {
            throw StorageError.failed(key: path, reason: reason)
        }
    }

    /// A descriptor for `key` beneath the root, or nil when there is nothing to serve.
    private func openBeneath(_ key: String) throws -> Int32? {
        switch try store.openBeneath(key) {
        case let .descriptor(fd): return fd
        // Missing, or a path that leaves the root: both are plain 404s.
        case .missing, .outsideRoot: return nil
        // So are sockets (ENXIO) and devices without a driver: only regular files are served.
        case .failed(ENAMETOOLONG), .failed(EACCES), .failed(EPERM), .failed(ENXIO), .failed(ENODEV), .failed(EAGAIN): return nil
        case .failed(EMFILE), .failed(ENFILE): throw DescriptorsExhausted(key: location + "/" + key)
        case let .failed(code): throw StorageError.failed(key: location + "/" + key, reason: String(cString: strerror(code)))
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
        return OpenFile(OpenedFile(fd: fd, stat: st))
    }

    public func listFolder(_ key: String) async throws -> FolderListing? {
        guard let fd = try openBeneath(key) else { return nil }
        return store.listFolder(descriptor: fd)?.sorted()
    }
}

/// An open regular file and what `fstat` said of it. A plain value: whoever holds it
/// closes `fd` (FileObject on deinit, the fast path once the answer is written).
struct OpenFile {
    let fd: Int32
    let size: Int
    let validators: Validators

    init(_ file: OpenedFile) {
        fd = file.fd
        size = file.info.size
        let version = file.info.file ?? FileVersion(device: 0, inode: 0, modifiedSeconds: 0, modifiedNanoseconds: 0)
        let nanos = version.modifiedSeconds &* 1_000_000_000 &+ version.modifiedNanoseconds
        // Identity, size and nanosecond mtime: writers replace files by rename, so any new
        // content has a new inode and the tag changes with it. The identity is hashed
        // (`hidden`): tags are valid for one server run.
        validators = Validators(etag: Self.etag(inode: Self.hidden(device: version.device, inode: version.inode),
                                                size: UInt64(size), nanos: UInt64(bitPattern: Int64(nanos))),
                                lastModified: version.modifiedSeconds)
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

    /// `range` appended to `buffer` with the one pread loop (`readFully`); a file that
    /// shrank underneath is an error, never a short body under a longer Content-Length.
    /// `path` names it in the error.
    func read(_ range: Range<Int>, into buffer: inout ByteBuffer, path: @autoclosure () -> String) throws {
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: range.count) { raw in
            failure = readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<range.count]), at: range.lowerBound)
            return failure == 0 ? range.count : 0
        }
        if failure != 0 {
            throw StorageError.failed(key: path(), reason: failure == fileShrank ? "file shrank while being served" : String(cString: strerror(failure)))
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
