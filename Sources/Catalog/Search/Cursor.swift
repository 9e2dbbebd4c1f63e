import Foundation

/// The keyset cursor as the API spells it: base64url (no padding) of a small JSON object
/// `{"k": last sort value (null, string or number), "i": last id, "h": query hash (16 hex)}`.
/// Opaque to clients; a cursor that does not decode, or was made for another query or sort,
/// is refused by the parser.
extension SearchCursor {
    struct Wire: Codable {
        var k: Key
        var i: Int64
        var h: String

        enum Key: Codable, Equatable {
            case none, text(String), number(Double)
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if c.decodeNil() { self = .none }
                else if let s = try? c.decode(String.self) { self = .text(s) }
                else { self = .number(try c.decode(Double.self)) }
            }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.singleValueContainer()
                switch self {
                case .none: try c.encodeNil()
                case let .text(s): try c.encode(s)
                case let .number(n): try c.encode(n)
                }
            }
        }
    }

    /// Longest cursor text accepted (a name sort value is at most a dataset name).
    public static let maxEncodedLength = 1024

    public var encoded: String {
        let key: Wire.Key = switch sortValue {
        case .none: .none
        case let .text(s): .text(s)
        case let .number(n): .number(n)
        }
        let wire = Wire(k: key, i: id, h: QueryHash.hex(queryHash))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(wire)) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The cursor this text encodes, or `nil` when it is not one of ours.
    public init?(encoded text: String) {
        guard !text.isEmpty, text.utf8.count <= Self.maxEncodedLength,
              text.utf8.allSatisfy({ $0.isBase64URL }) else { return nil }
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.utf8.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64),
              let wire = try? JSONDecoder().decode(Wire.self, from: data),
              let hash = QueryHash.parse(wire.h) else { return nil }
        let value: SortValue
        switch wire.k {
        case .none: value = .none
        case let .text(s):
            // A hand-made cursor's name with a NUL would reach PostgreSQL as a bound value and
            // fail there (a 502); no dataset name holds one.
            guard !s.utf8.contains(0) else { return nil }
            value = .text(s)
        case let .number(n):
            guard n.isFinite else { return nil }
            value = .number(n)
        }
        self.init(sortValue: value, id: wire.i, queryHash: hash)
    }
}

private extension UInt8 {
    var isBase64URL: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "-") || self == UInt8(ascii: "_")
    }
}

/// A stable 64-bit hash of a query's conditions, free-text tokens and sort (not its page size:
/// a client may change `limit` between pages). FNV-1a over a canonical byte form, so it is the
/// same in every process and release — unlike Swift's `Hasher`, which is seeded per process.
public enum QueryHash {
    public static func of(_ query: SearchQuery) -> UInt64 {
        var h = FNV()
        h.add("sort"); h.add(query.sort.rawValue)
        h.add("q"); h.add(query.textTokens)
        for condition in query.conditions {
            switch condition {
            case let .text(keys, match, value):
                h.add("text"); h.add(keys); h.add(match.rawValue); h.add(value)
            case let .range(keys, min, max):
                h.add("range"); h.add(keys); h.add(min); h.add(max)
            case let .dateRange(keys, from, to):
                h.add("date"); h.add(keys.map { "\($0.key)\u{1}\($0.scale.rawValue)" }); h.add(from); h.add(to)
            case let .select(keys, values):
                h.add("select"); h.add(keys); h.add(values)
            case let .cone(raKeys, decKeys, ra, dec, radius):
                h.add("cone"); h.add(raKeys); h.add(decKeys); h.add(ra); h.add(dec); h.add(radius)
            case let .column(column, values):
                h.add("column"); h.add(column.rawValue); h.add(values)
            }
        }
        return h.value
    }

    static func hex(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func parse(_ text: String) -> UInt64? {
        guard text.utf8.count == 16 else { return nil }
        return UInt64(text, radix: 16)
    }

    struct FNV {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func byte(_ b: UInt8) { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        /// Length-prefixed, so ("ab","c") and ("a","bc") differ.
        mutating func add(_ s: String) {
            let bytes = Array(s.utf8)
            add(UInt64(bytes.count))
            for b in bytes { byte(b) }
        }
        mutating func add(_ list: [String]) { add(UInt64(list.count)); for s in list { add(s) } }
        mutating func add(_ n: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { byte(UInt8(truncatingIfNeeded: n >> UInt64(shift))) } }
        mutating func add(_ d: Double?) {
            if let d { byte(1); add(d.bitPattern) } else { byte(0) }
        }
        mutating func add(_ d: Double) { add(d.bitPattern) }
    }
}
