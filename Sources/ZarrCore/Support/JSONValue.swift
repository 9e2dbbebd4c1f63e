import Foundation

/// Any JSON document, kept losslessly enough for Zarr metadata: integers stay integers
/// (uint64 fill values survive), objects keep every key we do not understand so that
/// attributes round-trip untouched.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var objectValue: [String: JSONValue]? { if case let .object(o) = self { return o }; return nil }

    /// An integer, if this is a JSON number with an exact integer value.
    public var intValue: Int? {
        switch self {
        case let .int(i): return Int(exactly: i)
        case let .uint(u): return Int(exactly: u)
        case let .double(d): return Int(exactly: d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .uint(u): return Double(u)
        case let .double(d): return d
        default: return nil
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    public init(_ ints: [Int]) { self = .array(ints.map { .int(Int64($0)) }) }
    public init(_ value: Int) { self = .int(Int64(value)) }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let u = try? c.decode(UInt64.self) { self = .uint(u); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONValue].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .uint(u): try c.encode(u)
        case let .double(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }
}

extension JSONValue {
    /// Parses a metadata document; `key` names the object in errors.
    /// Documents over `Limits.metadataBytes` and objects with a duplicated key are
    /// refused (readers disagree on which duplicate wins).
    public static func parse(_ bytes: [UInt8], key: String) throws -> JSONValue {
        guard bytes.count <= Limits.metadataBytes else {
            throw ZarrError.invalidMetadata(key: key, reason: "document of \(bytes.count) bytes exceeds the \(Limits.metadataBytes)-byte limit")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw ZarrError.invalidMetadata(key: key, reason: "not valid JSON")
        }
        if let duplicate = firstDuplicateKey(bytes) {
            throw ZarrError.invalidMetadata(key: key, reason: "duplicate key '\(duplicate)' in one JSON object")
        }
        return value
    }

    /// Pretty, key-sorted JSON: stable output makes metadata diffable and tests exact.
    public func serialized() -> [UInt8] { encoded([.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) }

    /// Compact, key-sorted JSON: documents generated for readers over the network.
    public func compactSerialized() -> [UInt8] { encoded([.sortedKeys, .withoutEscapingSlashes]) }

    private func encoded(_ formatting: JSONEncoder.OutputFormatting) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        // Encoding a JSONValue cannot fail: non-finite doubles never enter one (fill
        // values spell them as strings).
        let data = (try? encoder.encode(self)) ?? Data("null".utf8)
        return [UInt8](data)
    }
}
