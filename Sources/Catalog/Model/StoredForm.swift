import Foundation
import ZarrCore

/// How a record's values are written to either store, so SQLite and PostgreSQL keep exactly
/// the same thing. Three facts force a rule here rather than in each store:
/// - PostgreSQL `text` cannot hold U+0000 (SQLite can), so NUL becomes U+FFFD in both;
/// - SQLite turns a NaN `REAL` into NULL (PostgreSQL keeps it), so non-finite numbers are
///   stored as unknown (`nil`) in both, as `MetaRow.number` documents;
/// - values past the `MetaRow` limits are cut here, never refused: harvested headers are
///   written by instruments and strangers, and one odd card must not lose a dataset.
public enum StoredForm {
    /// A text column's value: NUL replaced.
    public static func text(_ value: String) -> String {
        value.contains("\0") ? value.replacingOccurrences(of: "\0", with: "\u{FFFD}") : value
    }

    public static func text(_ value: String?) -> String? { value.map { text($0) } }

    /// A real column's value: finite or nothing.
    public static func number(_ value: Double?) -> Double? {
        guard let value, value.isFinite else { return nil }
        return value
    }

    /// `value` cut to at most `maxBytes` bytes of UTF-8, on a character boundary.
    public static func cut(_ value: String, maxBytes: Int) -> String {
        guard value.utf8.count > maxBytes else { return value }
        var bytes = 0
        var end = value.startIndex
        for index in value.indices {
            let next = value.index(after: index)
            let width = value.utf8.distance(from: index, to: next)
            if bytes + width > maxBytes { break }
            bytes += width
            end = next
        }
        return String(value[..<end])
    }

    /// The rows a store keeps for a harvest, in order: at most `MetaRow.maxRowsPerDataset`,
    /// keys cut at `maxKeyBytes`, scopes and texts at `maxTextBytes`, NUL replaced, non-finite
    /// numbers dropped. (The harvest's document keeps every value whole.)
    public static func rows(_ rows: [MetaRow]) -> [MetaRow] {
        rows.prefix(MetaRow.maxRowsPerDataset).map { row in
            var kept = row
            kept.scope = cut(text(row.scope), maxBytes: MetaRow.maxTextBytes)
            kept.key = cut(text(row.key), maxBytes: MetaRow.maxKeyBytes)
            kept.text = cut(text(row.text), maxBytes: MetaRow.maxTextBytes)
            kept.number = number(row.number)
            return kept
        }
    }

    /// A new public id: a random UUID (version 4), lower case.
    public static func newUID() -> String { UUID().uuidString.lowercased() }

    /// The `dimensions` column: the level-0 description as JSON text.
    public static func dimensionsText(_ dimensions: Dimensions?) throws -> String? {
        guard let dimensions else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return text(String(decoding: try encoder.encode(dimensions), as: UTF8.self))
    }

    public static func dimensions(_ text: String?) throws -> Dimensions? {
        guard let text else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(Dimensions.self, from: Data(text.utf8))
        } catch {
            throw CatalogError.storeFailed("a dataset's stored dimensions do not parse: \(error)")
        }
    }

    /// The `dataset_doc` column: the harvested document as compact JSON text. A non-finite
    /// double (JSON has none) is written as the string "NaN", "Infinity" or "-Infinity".
    public static func documentText(_ document: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return text(String(decoding: try encoder.encode(document), as: UTF8.self))
        } catch {
            throw CatalogError.storeFailed("the harvested metadata document cannot be written as JSON: \(error)")
        }
    }

    /// The document back from its column (no size limit: the store wrote it).
    public static func document(_ text: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw CatalogError.storeFailed("a dataset's stored metadata document does not parse: \(error)")
        }
    }
}

extension DatasetRecord {
    /// The record as a store keeps it (`StoredForm`): NUL-free texts, finite numbers.
    public var storedForm: DatasetRecord {
        var r = self
        r.uid = StoredForm.text(uid)
        r.name = StoredForm.text(name)
        r.root = StoredForm.text(root)
        r.location = StoredForm.text(location)
        r.sourcePath = StoredForm.text(sourcePath)
        r.sourcePart = StoredForm.text(sourcePart)
        r.format = StoredForm.text(format)
        r.checksum = StoredForm.text(checksum)
        r.fileModified = StoredForm.number(fileModified)
        r.observed = StoredForm.number(observed)
        r.access.ownerGroup = StoredForm.text(access.ownerGroup)
        r.access.accessGroups = Set(access.accessGroups.map { StoredForm.text($0) })
        r.uploader = StoredForm.text(uploader)
        r.error = StoredForm.text(error)
        return r
    }
}
