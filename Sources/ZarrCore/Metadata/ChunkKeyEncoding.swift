/// How chunk grid coordinates become store keys: v3's `default` (`c/1/2/3`) or the v2
/// style (`1.2.3` or `1/2/3`), which v3 can also select.
public struct ChunkKeyEncoding: Sendable, Equatable {
    public enum Kind: String, Sendable { case `default`, v2 }
    public var kind: Kind
    public var separator: Character

    public init(kind: Kind, separator: Character) {
        self.kind = kind
        self.separator = separator
    }

    public static let v3Default = ChunkKeyEncoding(kind: .default, separator: "/")
    public static let v2Nested = ChunkKeyEncoding(kind: .v2, separator: "/")

    public init(v3 json: JSONValue?, key: String) throws {
        guard let json else { self = .v3Default; return }
        let name = json["name"]?.stringValue ?? json.stringValue ?? ""
        guard let kind = Kind(rawValue: name) else {
            throw ZarrError.unsupported(key: key, what: "chunk_key_encoding '\(name)'")
        }
        let sep = json["configuration"]?["separator"]?.stringValue ?? (kind == .default ? "/" : ".")
        guard sep == "/" || sep == "." else { throw ZarrError.invalidMetadata(key: key, reason: "chunk key separator must be '/' or '.'") }
        self.init(kind: kind, separator: Character(sep))
    }

    public var v3Metadata: JSONValue {
        ["name": .string(kind.rawValue), "configuration": ["separator": .string(String(separator))]]
    }

    /// The chunk coordinates a key (relative to the array) names, or nil if it names no
    /// chunk of a `dimensions`-dimensional grid: the inverse of `key(_:)`.
    public func coordinates(_ key: String, dimensions: Int) -> [Int]? {
        var parts = key.split(separator: separator, omittingEmptySubsequences: false)
        if kind == .default {
            guard parts.first == "c" else { return nil }
            parts.removeFirst()
        } else if dimensions == 0 {
            return key == "0" ? [] : nil
        }
        guard parts.count == dimensions else { return nil }
        var coords = [Int]()
        for p in parts {
            guard !p.isEmpty, p.allSatisfy(\.isASCII), p.allSatisfy(\.isNumber), let v = Int(p) else { return nil }
            coords.append(v)
        }
        return coords
    }

    /// The key of chunk `coords`, relative to the array.
    public func key(_ coords: [Int]) -> String {
        let sep = String(separator)
        switch kind {
        case .default: return (["c"] + coords.map(String.init)).joined(separator: sep)
        case .v2: return coords.isEmpty ? "0" : coords.map(String.init).joined(separator: sep)
        }
    }
}
