import Foundation
import Storage
import Synchronization
import ZarrCore

/// The encoded inner chunks of one shard in progress, kept on disk instead of in memory:
/// a converter's pyramid shard can take the whole run to fill (its pieces come from all
/// over the image), and holding its chunks would make memory grow with the shard size.
///
/// Chunks are appended in the order they are encoded (any thread; each gets its own
/// range, written with `pwrite`); the shard's bytes are laid out in C order only when it
/// is streamed to its object (`ShardAssembly.write(to:reading:)`), reading one chunk at a
/// time back from here. The file is created in the temporary directory (`TMPDIR`) and
/// unlinked at once, so nothing of it outlives the process, even after kill -9, and its
/// space is freed when the spool is dropped; a shard finished before the kernel writes
/// the pages back never touches the disk.
final class ShardSpool: Sendable {
    private let fd: Int32
    private let end = Atomic<Int>(0)
    /// Where the spool was created, for messages (the file itself has no name any more).
    private let place: String

    /// `shard`: the key of the shard it holds, for messages.
    init(for shard: String) throws {
        let folder = FileManager.default.temporaryDirectory.path
        place = "\(folder) (spool of \(shard))"
        var template = Array((folder + "/tessera-spool-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw StorageError.failed(key: place, reason: "cannot create a spool file: \(String(cString: strerror(errno)))") }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.fd = fd
    }

    deinit { close(fd) }

    /// Bytes appended so far.
    var size: Int { end.load(ordering: .relaxed) }

    /// Keeps `bytes` and says where: the piece to add to the shard's assembly.
    func append(_ bytes: [UInt8]) throws -> ShardAssembly.Piece {
        let offset = end.wrappingAdd(bytes.count, ordering: .relaxed).oldValue
        let ok = bytes.withUnsafeBytes { p -> Bool in
            var done = 0
            while done < p.count {
                let n = pwrite(fd, p.baseAddress! + done, p.count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return true
        }
        guard ok else { throw StorageError.failed(key: place, reason: "cannot write the spool: \(String(cString: strerror(errno)))") }
        return .kept(offset: offset, length: bytes.count)
    }

    /// The `length` bytes appended at `offset`.
    func read(_ offset: Int, _ length: Int) throws -> [UInt8] {
        var failed: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { p, initialized in
            var done = 0
            while done < length {
                let n = pread(fd, p.baseAddress! + done, length - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    failed = n == 0 ? EIO : errno
                    break
                }
                done += n
            }
            initialized = done
        }
        guard failed == 0 else { throw StorageError.failed(key: place, reason: "cannot read the spool back: \(String(cString: strerror(failed)))") }
        return bytes
    }
}
