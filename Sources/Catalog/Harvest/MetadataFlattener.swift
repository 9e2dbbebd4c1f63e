import ZarrCore

/// Turns a source's metadata into typed catalogue rows (Docs/catalog.md, "Harvest").
///
/// The input is plain JSON, so the catalogue never depends on the readers:
/// ```
/// {"format": "fits",
///  "scopes": [{"scope": "hdu0", "entries": [["SIMPLE", true], ["COMMENT", "a"], ["COMMENT", "b"]]},
///             {"scope": "openslide", "textual": true, "entries": [["openslide.mpp-x", "0.25"]]}]}
/// ```
/// Readers name the scopes (`hdu{N}`, an HDF5 object path, `ifd{N}`, `ome/Image[i]`,
/// `openslide`, …); the rule is the same for every format:
/// - a key repeated in a scope (COMMENT, HISTORY, a duplicated card) and the elements of an
///   array value count up `index` (nested arrays in C order; the first
///   `maxArrayElements` elements become rows, the document keeps the whole value);
/// - an object value's members become keys `key.member` (members in name order);
/// - numbers stay numbers (integers beyond 2^53 and non-finite values keep their text only),
///   booleans are `bool`, strings are typed by `ValueTyping` (sexagesimal RA/Dec keys →
///   degrees, the strict date grammar → date; in a `textual` scope, whose values are all
///   text, a string that is exactly a number → number), null is an empty string;
/// - keys are cut at `MetaRow.maxKeyBytes`, text at `MetaRow.maxTextBytes`, and a dataset gets
///   at most `MetaRow.maxRowsPerDataset` rows: past any limit the document says `truncated`.
public enum MetadataFlattener {
    /// Most rows one value (an array) contributes.
    public static let maxArrayElements = 1024

    public struct Result: Sendable, Equatable {
        public var rows: [MetaRow]
        /// What `GET /api/datasets/{id}/metadata` serves: every scope's entries in source order
        /// with their whole values.
        public var document: JSONValue
        public var truncated: Bool
    }

    public static func flatten(_ metadata: JSONValue) -> Result {
        var rows = [MetaRow]()
        var truncated = metadata["truncated"]?.boolValue ?? false
        var documentScopes = [String: JSONValue]()
        for scopeValue in metadata["scopes"]?.arrayValue ?? [] {
            guard let scope = scopeValue["scope"]?.stringValue else { continue }
            let textual = scopeValue["textual"]?.boolValue ?? false
            var counts = [String: Int]()
            var entries = [JSONValue]()
            for entry in scopeValue["entries"]?.arrayValue ?? [] {
                guard let pair = entry.arrayValue, pair.count == 2, let rawKey = pair[0].stringValue else { continue }
                let key = cut(rawKey, bytes: MetaRow.maxKeyBytes)
                if key != rawKey { truncated = true }
                var emitted = [MetaRow]()
                var elements = 0
                add(pair[1], scope: scope, key: key, textual: textual, counts: &counts, elements: &elements,
                    into: &emitted, truncated: &truncated)
                let type = emitted.first?.type ?? .string
                entries.append(.object(["key": .string(rawKey), "value": pair[1], "type": .string(type.name)]))
                let room = MetaRow.maxRowsPerDataset - rows.count
                if emitted.count > room {
                    truncated = true
                    rows += emitted.prefix(max(0, room))
                } else {
                    rows += emitted
                }
            }
            documentScopes[scope] = .array((documentScopes[scope]?.arrayValue ?? []) + entries)
        }
        var document: [String: JSONValue] = ["scopes": .object(documentScopes), "truncated": .bool(truncated)]
        if let format = metadata["format"] { document["format"] = format }
        return Result(rows: rows, document: .object(document), truncated: truncated)
    }

    private static func add(_ value: JSONValue, scope: String, key: String, textual: Bool, counts: inout [String: Int],
                            elements: inout Int, into rows: inout [MetaRow], truncated: inout Bool) {
        func row(_ type: MetaType, _ number: Double?, _ text: String) {
            guard elements < maxArrayElements else {
                truncated = true
                return
            }
            elements += 1
            let index = counts[key, default: 0]
            counts[key] = index + 1
            let kept = cut(text, bytes: MetaRow.maxTextBytes)
            if kept != text { truncated = true }
            rows.append(MetaRow(scope: scope, key: key, index: index, type: type, number: number, text: kept))
        }
        switch value {
        case .null: row(.string, nil, "")
        case let .bool(b): row(.bool, b ? 1 : 0, b ? "true" : "false")
        case let .int(i): row(.number, i.magnitude <= ValueTyping.exactIntegerLimit ? Double(i) : nil, String(i))
        case let .uint(u): row(.number, u <= ValueTyping.exactIntegerLimit ? Double(u) : nil, String(u))
        case let .double(d): row(.number, d.isFinite ? d : nil, "\(d)")
        case let .string(s):
            let (type, number) = typed(s, key: key, textual: textual)
            row(type, number, s)
        case let .array(items):
            for item in items {
                if elements >= maxArrayElements {
                    truncated = true
                    break
                }
                add(item, scope: scope, key: key, textual: textual, counts: &counts, elements: &elements,
                    into: &rows, truncated: &truncated)
            }
        case let .object(members):
            for name in members.keys.sorted() {
                guard let member = members[name] else { continue }
                let memberKey = cut("\(key).\(name)", bytes: MetaRow.maxKeyBytes)
                var memberElements = 0
                add(member, scope: scope, key: memberKey, textual: textual, counts: &counts, elements: &memberElements,
                    into: &rows, truncated: &truncated)
            }
        }
    }

    /// The type of a string value under `key` (ValueTyping's rules, in this order).
    public static func typed(_ text: String, key: String, textual: Bool) -> (MetaType, Double?) {
        if let kind = ValueTyping.angleKind(key), let degrees = ValueTyping.sexagesimal(text, as: kind) {
            return (.number, degrees)
        }
        if let seconds = ValueTyping.date(text) { return (.date, seconds) }
        if textual, let number = ValueTyping.textualNumber(text) { return (.number, number) }
        return (.string, nil)
    }

    /// `text` cut to at most `bytes` UTF-8 bytes, on a character boundary.
    static func cut(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var result = ""
        var used = 0
        for c in text {
            let n = c.utf8.count
            if used + n > bytes { break }
            result.append(c)
            used += n
        }
        return result
    }
}
