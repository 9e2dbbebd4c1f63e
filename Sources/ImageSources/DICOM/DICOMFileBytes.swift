import Foundation

/// Bounded random access to a file's bytes by `pread`, with a small read-ahead window so
/// walking thousands of small element headers costs few system calls. Every read is
/// checked against the file's size: a value that runs past the end is "truncated", never
/// a short buffer.
final class DICOMFileBytes {
    let path: String
    let size: Int
    private let fd: Int32
    private var window = [UInt8]()
    private var windowStart = 0
    private static let windowBytes = 1 << 16

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SourceError(path, "cannot be opened for reading: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw SourceError(path, "cannot be read: \(String(cString: strerror(errno)))")
        }
        size = Int(st.st_size)
    }

    deinit { close(fd) }

    /// `count` bytes at `offset`, or a "truncated" error naming `what`.
    func read(_ offset: Int, _ count: Int, what: @autoclosure () -> String) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw SourceError(path, "is truncated: \(what()) needs bytes \(offset)..<\(offset &+ count) but the file has \(size)")
        }
        if count == 0 { return [] }
        if offset >= windowStart, offset + count <= windowStart + window.count {
            let s = offset - windowStart
            return Array(window[s..<(s + count)])
        }
        if count <= Self.windowBytes / 4 {
            let n = min(Self.windowBytes, size - offset)
            window = try pread(offset, n)
            windowStart = offset
            return Array(window[0..<count])
        }
        return try pread(offset, count)
    }

    /// Reads exactly `count` bytes (the caller has checked the range).
    private func pread(_ offset: Int, _ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Foundation.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw SourceError(path, n == 0 ? "is truncated at byte \(offset + done) (it shrank while being read)"
                                               : "cannot be read at byte \(offset + done): \(String(cString: strerror(errno)))")
            }
            done += n
        }
        return out
    }
}
