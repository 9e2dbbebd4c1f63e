/// The table a search walks first, when it is not `dataset` itself.
///
/// On SQLite, in id order, a condition answered by an FTS5 index (free text, or a `contains`
/// needle SQLite's trigram index serves) drives the query: FTS5 hands its rows out in rowid
/// order, which is dataset id order (`dataset_fts.rowid` is the id; `meta_trgm.rowid` is
/// `dataset_id · stride + seq`), so the page's `LIMIT` stops the walk after `limit + 1`
/// matches, where the candidate set of every match had to be built and looked up first (a
/// common needle: 25,000 of 100,000 datasets). The keyset `d.id > after` also becomes a rowid
/// bound the index seeks to. The other conditions stay candidate sets.
struct SearchDriver {
    /// `FROM` text: the index, joined to `dataset d`.
    var from: String
    /// Tests of the driving condition (replacing its candidate set).
    var filters: [String]
    /// The index's own order, equal to `d.id` order.
    var order: String
    /// Whether one dataset can come out more than once (several rows of it match).
    var distinct: Bool
    /// Which condition it replaces (`nil`: the free text).
    var conditionIndex: Int?
}

extension SQLBuilder {
    mutating func driver(for query: SearchQuery) -> SearchDriver? {
        guard dialect == .sqlite, query.sort == .id else { return nil }
        let afterID = query.after?.id
        if !query.textTokens.isEmpty {
            let expr = Self.ftsExpression(query.textTokens)
            var filters = ["dataset_fts MATCH \(bind(.text(expr)))"]
            if let afterID { filters.append("f.rowid > \(bind(.int(afterID)))") }
            return SearchDriver(from: "dataset_fts f CROSS JOIN dataset d ON d.id = f.rowid", filters: filters,
                                order: "f.rowid", distinct: false, conditionIndex: nil)
        }
        for (index, condition) in query.conditions.enumerated() {
            guard case let .text(keys, .contains, value) = condition else { continue }
            let lowered = Self.asciiLowercased(value)
            let pattern = "%\(Self.likeEscaped(lowered))%"
            guard lowered.unicodeScalars.count >= 3, !lowered.unicodeScalars.contains("\0") else { continue }
            guard let parts = trigramParts(keyList: list(keys), lowered: lowered, pattern: pattern) else { continue }
            var filters = [parts.test]
            // Rows of datasets after the cursor start at (after + 1) · stride; past Int64 there
            // are none (then `d.id > after`, which the caller adds, answers alone).
            let stride = CatalogMigrations.trigramRowidStride
            if let afterID, afterID >= 0, afterID < Int64.max / stride - 1 {
                filters.append("t.rowid >= \(bind(.int((afterID + 1) * stride)))")
            }
            return SearchDriver(from: parts.join + " CROSS JOIN dataset d ON d.id = m.dataset_id", filters: filters,
                                order: "t.rowid", distinct: true, conditionIndex: index)
        }
        return nil
    }
}
