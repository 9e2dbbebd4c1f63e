/// The tag tree of a Gatan DigitalMicrograph (DM3/DM4) file, as `DMParser` reads it.
/// Pure Swift (no ZarrCore) so that the libFuzzer build can compile it on its own.

/// One value of a data tag.
indirect enum DMValue: Sendable {
    case int(Int64)
    case uint(UInt64)
    case real(Double)
    case bool(Bool)
    /// A type-18 string (bytes, UTF-8 or Latin-1), or a placeholder for one too long to keep.
    case text(String)
    /// A type-15 struct: its field values in order (DM field names are always empty).
    case structure([DMValue])
    case array(DMArray)
    case group(DMGroup)

    var intValue: Int? {
        switch self {
        case let .int(v): return Int(exactly: v)
        case let .uint(v): return Int(exactly: v)
        case let .real(v): return v.isFinite && v == v.rounded() && abs(v) < 9e15 ? Int(v) : nil
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case let .int(v): return Double(v)
        case let .uint(v): return Double(v)
        case let .real(v): return v
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    /// A string tag, or an array of uint16 (how DM stores most strings, `Units` among them).
    var stringValue: String? {
        switch self {
        case let .text(s): return s
        case let .array(a): return a.utf16Text
        default: return nil
        }
    }

    var groupValue: DMGroup? { if case let .group(g) = self { return g }; return nil }
    var arrayValue: DMArray? { if case let .array(a) = self { return a }; return nil }
}

/// A type-20 array. Its place in the file is always kept (image data is read from there,
/// later, region by region); its values only when it is small.
struct DMArray: Sendable {
    /// Simple element type (2…12); 15 for an array of structs, 18 of strings, 20 of arrays.
    var elementType: Int
    /// The field types of an array of structs; empty otherwise.
    var fieldTypes: [Int]
    var count: Int
    /// Absolute file offset of the first element, and the bytes of all elements.
    var offset: Int
    var byteCount: Int
    /// The elements, when `byteCount` is at most `DMParser.maxDecodedArrayBytes`.
    var values: [DMValue]?

    /// The array read as UTF-16 text, when it is a decoded uint16 array.
    var utf16Text: String? {
        guard elementType == 4, let values else { return nil }
        let units = values.compactMap { v -> UInt16? in if case let .uint(u) = v { return UInt16(truncatingIfNeeded: u) }; return nil }
        return String(decoding: units.prefix { $0 != 0 }, as: UTF16.self)
    }
}

/// A tag group: ordered entries, labelled or not (unlabelled entries are list items).
struct DMGroup: Sendable {
    struct Entry: Sendable {
        var label: String
        var value: DMValue
    }

    var entries: [Entry] = []

    /// The first entry labelled `label`.
    subscript(label: String) -> DMValue? { entries.first { $0.label == label }?.value }

    /// Follows labels down through nested groups: `["ImageData", "Data"]`.
    func value(at path: [String]) -> DMValue? {
        guard let first = path.first else { return .group(self) }
        guard let next = self[first] else { return nil }
        if path.count == 1 { return next }
        return next.groupValue?.value(at: Array(path.dropFirst()))
    }

    func group(at path: [String]) -> DMGroup? { value(at: path)?.groupValue }
}

/// A whole file: its format version, the byte order of its values, and the root group.
struct DMDocument: Sendable {
    var version: Int
    /// The header's byte-order flag: true when tag values and image data are little-endian.
    /// (Structural fields — counts, lengths, info words — are always big-endian.)
    var littleEndian: Bool
    var root: DMGroup
    var fileSize: Int
    var tagCount: Int
}

/// Sizes of the simple encoded types: 2 int16, 3 int32, 4 uint16, 5 uint32, 6 float32,
/// 7 float64, 8 bool, 9 int8, 10 uint8, 11 int64, 12 uint64.
enum DMSimpleType {
    static func size(_ type: Int) -> Int? {
        switch type {
        case 8, 9, 10: return 1
        case 2, 4: return 2
        case 3, 5, 6: return 4
        case 7, 11, 12: return 8
        default: return nil
        }
    }
}
