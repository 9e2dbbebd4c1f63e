import Foundation

/// The catalogue's words: how names and values become the free-text body both stores index,
/// and how a `q` parameter becomes query tokens. Tokenising in Swift (not in SQLite's FTS5
/// or PostgreSQL's parser) gives both stores the same words, so they answer alike, and keeps
/// user text out of either store's query syntax.
public enum FreeText {
    /// Longest token kept (longer runs are cut).
    public static let maxTokenLength = 64
    /// Most tokens a query may have.
    public static let maxQueryTokens = 16

    /// Compatibility-decomposed, diacritics dropped, lower-cased; a token is a maximal run of
    /// letters and digits (so `_`, `-`, `.` and spaces split, as both stores' own parsers do).
    public static func tokens(_ text: String) -> [String] {
        let folded = text.decomposedStringWithCompatibilityMapping
            .unicodeScalars.filter { !$0.properties.isDiacritic && $0.properties.generalCategory != .nonspacingMark }
        var result = [String]()
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty {
                result.append(String(String(current).lowercased().prefix(maxTokenLength)))
                current = String.UnicodeScalarView()
            }
        }
        for scalar in folded {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        return result
    }

    /// The indexed body of a dataset: the tokens of its name and of every string value,
    /// each distinct token once, in first-seen order.
    public static func body(name: String, rows: [MetaRow]) -> String {
        var seen = Set<String>()
        var words = [String]()
        func add(_ text: String) {
            for t in tokens(text) where seen.insert(t).inserted { words.append(t) }
        }
        add(name)
        for row in rows where row.type == .string || row.type == .date { add(row.text) }
        return words.joined(separator: " ")
    }
}
