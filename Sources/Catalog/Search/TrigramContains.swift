extension SQLBuilder {
    /// The candidates of a `contains` text element on SQLite through the trigram index
    /// (migration "5-fts-trigram"), or `nil` when the needle cannot use it (`trigramParts`).
    mutating func trigramContains(keyList: String, lowered: String, pattern: String) -> String? {
        guard let parts = trigramParts(keyList: keyList, lowered: lowered, pattern: pattern) else { return nil }
        return "SELECT m.dataset_id FROM \(parts.join) WHERE \(parts.test)"
    }

    /// The trigram path's rows: `meta_trgm t` joined to the `meta m` row it indexes, and the
    /// test on them; `nil` on PostgreSQL and for needles that cannot use the index: fewer than
    /// three characters (no trigram), or a NUL (FTS5 reads its query as a C string).
    ///
    /// The index narrows: a quoted phrase of the folded needle matches rows whose folded text
    /// holds its trigrams in a row, which is the substring itself. Each candidate row is then
    /// read by its primary key (the rowid encodes `dataset_id`, `seq`), and the key, type and
    /// `LIKE` tests of the old path stay on it as the exact rule, so the answer is the old
    /// path's answer. `CROSS JOIN` keeps the index as the outer loop.
    mutating func trigramParts(keyList: String, lowered: String, pattern: String) -> (join: String, test: String)? {
        guard dialect == .sqlite, lowered.unicodeScalars.count >= 3, !lowered.unicodeScalars.contains("\0") else { return nil }
        let phrase = "\"" + lowered.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let stride = CatalogMigrations.trigramRowidStride
        return ("meta_trgm t CROSS JOIN meta m ON m.dataset_id = t.rowid / \(stride) AND m.seq = t.rowid % \(stride)",
                "meta_trgm MATCH \(bind(.text(phrase))) AND m.key IN (\(keyList)) AND m.vtype = 0 "
                + "AND m.str_fold LIKE \(bind(.text(pattern))) ESCAPE '\\'")
    }
}
