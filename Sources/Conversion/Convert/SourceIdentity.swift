import Foundation
import ZarrCore

/// Which input file an output is made from, cheaply: enough to tell on `--resume` that
/// the file is not the one the stored chunks came from (another file, or the same path
/// rewritten) without reading it whole. Two identities match when size, modification
/// time, fingerprint and HDF5 dataset agree; the path is recorded for messages only, so a
/// file moved elsewhere still resumes.
public struct SourceIdentity: Sendable, Equatable {
    /// Absolute, symlinks resolved.
    public var path: String
    /// What followed the file in the input argument (an HDF5 `:/dataset`), or "".
    public var part: String
    public var size: Int
    /// Nanoseconds since 1970.
    public var modified: Int64
    /// crc32c of the first and last `sampleBytes` of the file and of `middleSamples`
    /// blocks of `middleBytes` spread evenly between, as hex.
    public var fingerprint: String

    static let sampleBytes = 1 << 16
    /// Head and tail hold the headers; the middle samples catch pixels rewritten in place
    /// (same size, same mtime within the clock's resolution) for 16 more small reads.
    static let middleSamples = 16, middleBytes = 1 << 12

    /// Where the fingerprint reads, as (offset, length), in file order and not overlapping.
    static func sampleRanges(size: Int) -> [(offset: Int, length: Int)] {
        guard size > 2 * sampleBytes else { return size > 0 ? [(0, size)] : [] }
        var ranges = [(offset: 0, length: sampleBytes)]
        let tail = size - sampleBytes
        for k in 1...middleSamples {
            let offset = sampleBytes + (tail - sampleBytes) / (middleSamples + 1) * k
            let start = max(offset, ranges[ranges.count - 1].offset + ranges[ranges.count - 1].length)
            let end = min(offset + middleBytes, tail)
            if end > start { ranges.append((start, end - start)) }
        }
        ranges.append((tail, sampleBytes))
        return ranges
    }

    /// The identity of `file` as it is now. `part` is the rest of the input argument.
    public static func of(file: String, part: String) throws -> SourceIdentity {
        var st = stat()
        guard stat(file, &st) == 0 else { throw SourceIdentityError(path: file, reason: String(cString: strerror(errno))) }
        if st.st_mode & S_IFMT == S_IFDIR { return try of(folder: file, part: part) }
        let size = Int(st.st_size)
        let modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SourceIdentityError(path: file, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var sample = [UInt8]()
        for (offset, length) in sampleRanges(size: size) {
            var chunk = [UInt8](repeating: 0, count: length)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard n == chunk.count else { throw SourceIdentityError(path: file, reason: "could not be read for its fingerprint") }
            sample += chunk
        }
        return SourceIdentity(path: resolvedPath(file), part: part, size: size, modified: modified,
                              fingerprint: String(crc32c(sample), radix: 16))
    }

    /// A folder input (a DICOM series): its files' total size and latest modification,
    /// and a fingerprint of every file's name, size, time and first 4 KiB (the header
    /// that names the instance), so an added, removed or rewritten slice is noticed.
    static func of(folder: String, part: String) throws -> SourceIdentity {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        var size = 0, modified: Int64 = 0
        var sample = [UInt8]()
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            var st = stat()
            guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            size += Int(st.st_size)
            let time = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
            modified = max(modified, time)
            sample += Array("\(name)\0\(st.st_size)\0\(time)\0".utf8)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SourceIdentityError(path: path, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            var head = [UInt8](repeating: 0, count: min(4096, Int(st.st_size)))
            let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            guard n == head.count else { throw SourceIdentityError(path: path, reason: "could not be read for its fingerprint") }
            sample += head
        }
        return SourceIdentity(path: resolvedPath(folder), part: part, size: size, modified: modified,
                              fingerprint: String(crc32c(sample), radix: 16))
    }

    public init(path: String, part: String, size: Int, modified: Int64, fingerprint: String) {
        self.path = path
        self.part = part
        self.size = size
        self.modified = modified
        self.fingerprint = fingerprint
    }

    /// Whether `self` (this run's input) is the file `recorded` describes.
    public func isSameFile(as recorded: SourceIdentity) -> Bool {
        size == recorded.size && modified == recorded.modified && fingerprint == recorded.fingerprint && part == recorded.part
    }

    /// How this run's input differs from `recorded`, for the refusal message.
    public func differences(from recorded: SourceIdentity) -> [String] {
        var out = [String]()
        if path != recorded.path { out.append("another file") }
        if part != recorded.part { out.append("dataset '\(part)' instead of '\(recorded.part)'") }
        if size != recorded.size { out.append("\(size) bytes instead of \(recorded.size)") }
        if modified != recorded.modified { out.append("modified at another time") }
        if fingerprint != recorded.fingerprint { out.append("other content") }
        return out
    }

    var json: JSONValue {
        .object(["path": .string(path), "part": .string(part), "size": JSONValue(size),
                 "modified": .int(modified), "fingerprint": .string(fingerprint)])
    }

    init(json: JSONValue, key: String) throws {
        guard let path = json["path"]?.stringValue, let size = json["size"]?.intValue,
              let modified = json["modified"]?.intValue, let fingerprint = json["fingerprint"]?.stringValue else {
            throw UsageError("\(key): the recorded source is incomplete")
        }
        self.init(path: path, part: json["part"]?.stringValue ?? "", size: size, modified: Int64(modified), fingerprint: fingerprint)
    }
}

/// The input could not be looked at for its identity.
public struct SourceIdentityError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "'\(path)': \(reason)" }
}
