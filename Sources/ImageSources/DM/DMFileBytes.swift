import Foundation
import Storage

/// A DM file opened once and read with pread: safe from several threads at once, so the
/// tag parser and every region read of every image share the one descriptor.
final class DMFileBytes: DMByteSource, @unchecked Sendable {
    let path: String
    let count: Int
    private let fd: Int32

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SourceError(path, "cannot be opened for reading: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw SourceError(path, "cannot be read: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.fd = fd
        self.count = Int(st.st_size)
    }

    deinit { close(fd) }

    func bytes(at offset: Int, length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        try read(into: &out, at: offset)
        return out
    }

    /// Fills `buffer` from `offset`; a file that shrank since it was opened is "truncated".
    func read(into buffer: inout [UInt8], at offset: Int) throws {
        guard offset >= 0, offset <= count - buffer.count else { throw DMParseError.truncated(at: count) }
        let status = buffer.withUnsafeMutableBytes { readFully(fd, into: $0, at: offset) }
        if status == fileShrank { throw DMParseError.truncated(at: offset) }
        if status != 0 { throw DMParseError.io(String(cString: strerror(status))) }
    }
}
