/// Reads the tag tree of a DM3/DM4 file through a bounded cursor: no size, count or depth
/// from the file is trusted — each is checked against the bytes that remain (in DM4, of
/// the enclosing entry) before anything is read or allocated, with overflow-checked
/// arithmetic. Big arrays (the image data) are located, not read.
/// Pure Swift (no ZarrCore) so that the libFuzzer build can compile it on its own.

/// Random access to a file's bytes: `DMFileBytes` (pread) or `DMMemoryBytes`.
protocol DMByteSource: Sendable {
    var count: Int { get }
    /// Exactly `length` bytes at `offset`, which the caller has checked lie inside `count`.
    func bytes(at offset: Int, length: Int) throws -> [UInt8]
}

struct DMMemoryBytes: DMByteSource {
    let data: [UInt8]
    var count: Int { data.count }
    func bytes(at offset: Int, length: Int) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset <= data.count - length else { throw DMParseError.truncated(at: offset) }
        return Array(data[offset..<offset + length])
    }
}

/// Why a DM file cannot be read; `description` is one line, the caller adds the file name.
enum DMParseError: Error, CustomStringConvertible, Equatable {
    case notDM(String)
    case truncated(at: Int)
    case unknownTagType(Int, path: String)
    case unknownTagKind(Int, path: String, at: Int)
    case missingMarker(path: String, at: Int)
    case tooDeep(path: String)
    case tooManyTags(Int)
    case badCount(String, path: String, at: Int)
    case image(Int, String)
    case io(String)

    var description: String {
        // A depth bomb's path is thousands of labels long: keep its ends.
        func short(_ path: String) -> String {
            path.count <= 120 ? path : "\(path.prefix(50))…\(path.suffix(50)) (\(path.split(separator: ".").count) levels)"
        }
        switch self {
        case let .notDM(why): return "is not a DM3/DM4 file: \(why)"
        case let .truncated(at): return "DM file is truncated at byte \(at)"
        case let .unknownTagType(t, path): return "unknown DM tag type \(t) at \(short(path))"
        case let .unknownTagKind(k, path, at): return "bad DM tag kind \(k) at \(short(path)) (byte \(at))"
        case let .missingMarker(path, at): return "DM data tag \(short(path)) lacks its %%%% marker (byte \(at))"
        case let .tooDeep(path): return "DM tag groups nest deeper than \(DMParser.maxDepth) at \(short(path))"
        case let .tooManyTags(n): return "DM file holds more than \(n) tags"
        case let .badCount(what, path, at): return "DM tag \(short(path)): \(what) (byte \(at))"
        case let .image(i, why): return "DM image \(i) \(why)"
        case let .io(why): return "cannot be read: \(why)"
        }
    }
}

/// A read position over a byte source with an end it may not pass, buffering a window of
/// the file so that the many small structural reads are not one system call each.
struct DMCursor {
    let source: any DMByteSource
    private(set) var position: Int
    /// Reads stop here: the file's end, or in DM4 the end of the entry being read.
    var end: Int
    private var window: [UInt8] = []
    private var windowStart = 0
    private static let windowSize = 1 << 16

    init(source: any DMByteSource, position: Int = 0) {
        self.source = source
        self.position = position
        self.end = source.count
    }

    var remaining: Int { end - position }

    /// Whether `n` more bytes lie before `end`; throws `truncated` otherwise.
    func require(_ n: Int) throws {
        guard n >= 0, n <= remaining else { throw DMParseError.truncated(at: min(end, source.count)) }
    }

    mutating func skip(_ n: Int) throws {
        try require(n)
        position += n
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        try require(n)
        if n > Self.windowSize {
            let bytes = try source.bytes(at: position, length: n)
            position += n
            return bytes[...]
        }
        if position < windowStart || position + n > windowStart + window.count {
            windowStart = position
            window = try source.bytes(at: position, length: min(Self.windowSize, source.count - position))
        }
        let start = position - windowStart
        position += n
        return window[start..<start + n]
    }

    mutating func u8() throws -> UInt8 { try take(1).first ?? 0 }

    /// An unsigned integer of `size` bytes in the given byte order.
    mutating func unsigned(_ size: Int, littleEndian: Bool = false) throws -> UInt64 {
        let bytes = try take(size)
        var v: UInt64 = 0
        if littleEndian {
            for b in bytes.reversed() { v = v << 8 | UInt64(b) }
        } else {
            for b in bytes { v = v << 8 | UInt64(b) }
        }
        return v
    }

    /// A big-endian structural word (u32 in DM3, u64 in DM4) as an Int, refusing values past Int.max.
    mutating func word(_ size: Int, path: String) throws -> Int {
        let at = position
        let v = try unsigned(size)
        guard let i = Int(exactly: v) else { throw DMParseError.badCount("value \(v) is out of range", path: path, at: at) }
        return i
    }
}

struct DMParser {
    static let maxDepth = 64
    static let maxTags = 1_000_000
    /// Info words of one data tag: a struct of up to 1024 fields, plus its header.
    static let maxInfoWords = 8 + 2 * 1024
    static let maxStringBytes = 1 << 20
    /// Arrays up to this size are decoded into values (metadata); bigger ones are located only.
    static let maxDecodedArrayBytes = 1 << 16

    private var cursor: DMCursor
    private let version: Int
    private let littleEndian: Bool
    private let wordSize: Int
    private var tagCount = 0

    private init(cursor: DMCursor, version: Int, littleEndian: Bool) {
        self.cursor = cursor
        self.version = version
        self.littleEndian = littleEndian
        self.wordSize = version == 4 ? 8 : 4
    }

    /// Whether the first bytes look like a DM3/DM4 header: version 3 or 4, then (after
    /// the root size) a byte-order flag of 0 or 1.
    static func looksLikeDM(_ head: [UInt8]) -> Bool {
        guard head.count >= 16, head[0] == 0, head[1] == 0, head[2] == 0, head[3] == 3 || head[3] == 4 else { return false }
        let flag = head[3] == 3 ? 8 : 12
        return head[flag] == 0 && head[flag + 1] == 0 && head[flag + 2] == 0 && head[flag + 3] <= 1
    }

    static func parse(_ source: any DMByteSource) throws -> DMDocument {
        var cursor = DMCursor(source: source)
        guard source.count >= 16 else { throw DMParseError.notDM("only \(source.count) bytes") }
        let version = try cursor.unsigned(4)
        guard version == 3 || version == 4 else { throw DMParseError.notDM("version field \(version), not 3 or 4") }
        _ = try cursor.unsigned(version == 4 ? 8 : 4) // root length: bounded by the file, never trusted
        let order = try cursor.unsigned(4)
        guard order <= 1 else { throw DMParseError.notDM("byte-order field \(order), not 0 or 1") }
        var parser = DMParser(cursor: cursor, version: Int(version), littleEndian: order == 1)
        let root = try parser.group(path: "", depth: 0)
        return DMDocument(version: Int(version), littleEndian: order == 1, root: root, fileSize: source.count,
                          tagCount: parser.tagCount)
    }

    private mutating func group(path: String, depth: Int) throws -> DMGroup {
        guard depth <= Self.maxDepth else { throw DMParseError.tooDeep(path: path.isEmpty ? "the root" : path) }
        try cursor.skip(2) // isSorted, isOpen
        let at = cursor.position
        let count = try cursor.word(wordSize, path: path)
        // Each entry takes at least its kind and label length (and in DM4 its size).
        let smallest = version == 4 ? 11 : 3
        guard count <= cursor.remaining / smallest else {
            throw DMParseError.badCount("declares \(count) tags in \(cursor.remaining) bytes (truncated or damaged file)",
                                        path: label(path), at: at)
        }
        var group = DMGroup()
        group.entries.reserveCapacity(count)
        for i in 0..<count {
            tagCount += 1
            guard tagCount <= Self.maxTags else { throw DMParseError.tooManyTags(Self.maxTags) }
            group.entries.append(try entry(parent: path, index: i, depth: depth))
        }
        return group
    }

    private mutating func entry(parent: String, index: Int, depth: Int) throws -> DMGroup.Entry {
        let at = cursor.position
        let kind = try cursor.u8()
        let labelLength = Int(try cursor.unsigned(2))
        let name = String(try cursor.take(labelLength).map { Character(Unicode.Scalar($0)) })
        let path = (parent.isEmpty ? "" : parent + ".") + (name.isEmpty ? "#\(index)" : name)
        let outerEnd = cursor.end
        var entryEnd: Int?
        if version == 4 {
            let sizeAt = cursor.position
            let size = try cursor.word(8, path: path)
            guard size <= cursor.remaining else {
                throw DMParseError.badCount("entry size \(size) is larger than the \(cursor.remaining) bytes left "
                                            + "(truncated or damaged file)", path: path, at: sizeAt)
            }
            entryEnd = cursor.position + size
            cursor.end = cursor.position + size
        }
        let value: DMValue
        switch kind {
        case 20: value = .group(try group(path: path, depth: depth + 1))
        case 21: value = try data(path: path)
        default: throw DMParseError.unknownTagKind(Int(kind), path: path, at: at)
        }
        if let entryEnd {
            // DM4 says how long the entry is: whatever the entry did not use is skipped.
            try cursor.skip(entryEnd - cursor.position)
            cursor.end = outerEnd
        }
        return DMGroup.Entry(label: name, value: value)
    }

    private mutating func data(path: String) throws -> DMValue {
        let markerAt = cursor.position
        guard Array(try cursor.take(4)) == Array("%%%%".utf8) else { throw DMParseError.missingMarker(path: path, at: markerAt) }
        let at = cursor.position
        let infoCount = try cursor.word(wordSize, path: path)
        guard infoCount >= 1, infoCount <= Self.maxInfoWords, infoCount <= cursor.remaining / wordSize else {
            throw DMParseError.badCount("declares \(infoCount) type words", path: path, at: at)
        }
        var info = [Int]()
        info.reserveCapacity(infoCount)
        for _ in 0..<infoCount { info.append(try cursor.word(wordSize, path: path)) }
        func word(_ i: Int) throws -> Int {
            guard i < info.count else { throw DMParseError.badCount("type words end early (\(info.count))", path: path, at: at) }
            return info[i]
        }
        let type = info[0]
        if DMSimpleType.size(type) != nil { return try simple(type) }
        switch type {
        case 18:
            // The length counts bytes, read as UTF-8 or else Latin-1: so both ncempy and
            // RosettaSciIO read type-18 strings (DM's own strings are mostly uint16 arrays).
            let length = try word(1)
            try cursor.require(length)
            if length > Self.maxStringBytes {
                try cursor.skip(length)
                return .text("<string of \(length) bytes>")
            }
            return .text(Self.text(try cursor.take(length)))
        case 15:
            let fields = try structFields(info, countAt: 2, path: path)
            return .structure(try fields.map { try simple($0) })
        case 20:
            let elementType = try word(1)
            var fieldTypes = [Int]()
            let count: Int
            let elementSize: Int
            if elementType == 15 {
                fieldTypes = try structFields(info, countAt: 3, path: path)
                count = try word(4 + 2 * fieldTypes.count)
                elementSize = fieldTypes.reduce(0) { $0 + (DMSimpleType.size($1) ?? 0) }
            } else if let size = DMSimpleType.size(elementType) {
                count = try word(2)
                elementSize = size
            } else if elementType == 18 {
                // Strings of one length each: [20, 18, length, count].
                elementSize = try word(2)
                count = try word(3)
            } else if elementType == 20 {
                // Arrays of one simple type and length each: [20, 20, type, length, count].
                let inner = try word(2)
                guard let size = DMSimpleType.size(inner) else { throw DMParseError.unknownTagType(inner, path: path + " (array element)") }
                let (bytes, overflow) = try word(3).multipliedReportingOverflow(by: size)
                guard !overflow else { throw DMParseError.badCount("array of arrays too large", path: path, at: at) }
                elementSize = bytes
                count = try word(4)
            } else {
                throw DMParseError.unknownTagType(elementType, path: path + " (array element)")
            }
            // An array of zero-byte elements (field-less structs, empty strings) would be any length in no bytes.
            guard elementSize > 0 else { throw DMParseError.badCount("array of zero-byte elements", path: path, at: at) }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
            guard !overflow, bytes <= cursor.remaining else {
                throw DMParseError.badCount("declares \(count) elements of \(elementSize) bytes, more than the \(cursor.remaining) "
                                            + "bytes left (truncated or damaged file)", path: path, at: cursor.position)
            }
            var array = DMArray(elementType: elementType, fieldTypes: fieldTypes, count: count, offset: cursor.position,
                                byteCount: bytes, values: nil)
            if bytes <= Self.maxDecodedArrayBytes, elementType == 18 {
                var values = [DMValue]()
                for _ in 0..<count { values.append(.text(Self.text(try cursor.take(elementSize)))) }
                array.values = values
            } else if bytes <= Self.maxDecodedArrayBytes, elementType != 20 {
                var values = [DMValue]()
                values.reserveCapacity(count)
                for _ in 0..<count {
                    values.append(elementType == 15 ? .structure(try fieldTypes.map { try simple($0) }) : try simple(elementType))
                }
                array.values = values
            } else {
                try cursor.skip(bytes)
            }
            return .array(array)
        default:
            throw DMParseError.unknownTagType(type, path: path)
        }
    }

    /// The field types of a struct whose field count is info word `countAt` (each field is
    /// a name length then a type); every field must be a simple type.
    private func structFields(_ info: [Int], countAt: Int, path: String) throws -> [Int] {
        guard countAt < info.count else { throw DMParseError.badCount("struct type words end early", path: path, at: cursor.position) }
        let fields = info[countAt]
        guard fields <= (info.count - countAt - 1) / 2 else {
            throw DMParseError.badCount("struct declares \(fields) fields in \(info.count) type words", path: path, at: cursor.position)
        }
        return try (0..<fields).map { k in
            let t = info[countAt + 2 + 2 * k]
            guard DMSimpleType.size(t) != nil else { throw DMParseError.unknownTagType(t, path: path + " (struct field \(k))") }
            return t
        }
    }

    private mutating func simple(_ type: Int) throws -> DMValue {
        guard let size = DMSimpleType.size(type) else { throw DMParseError.unknownTagType(type, path: "?") }
        let raw = try cursor.unsigned(size, littleEndian: littleEndian)
        switch type {
        case 2: return .int(Int64(Int16(truncatingIfNeeded: raw)))
        case 3: return .int(Int64(Int32(truncatingIfNeeded: raw)))
        case 9: return .int(Int64(Int8(truncatingIfNeeded: raw)))
        case 11: return .int(Int64(bitPattern: raw))
        case 6: return .real(Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw))))
        case 7: return .real(Double(bitPattern: raw))
        case 8: return .bool(raw != 0)
        default: return .uint(raw) // 4 uint16, 5 uint32, 10 uint8, 12 uint64
        }
    }

    /// A type-18 string's bytes: UTF-8 when they are valid UTF-8, else Latin-1.
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(validating: bytes, as: UTF8.self) ?? String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    private func label(_ path: String) -> String { path.isEmpty ? "the root group" : path }
}
