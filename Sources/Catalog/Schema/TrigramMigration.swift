extension CatalogMigrations {
    /// Migration "5-fts-trigram": an index for the `contains` text element on SQLite, which
    /// before it read every folded string of the element's keys (`LIKE '%…%'` cannot use a
    /// b-tree): at 100,000 datasets a scan of 10^5 rows per query.
    ///
    /// - SQLite: `meta_trgm`, a contentless FTS5 table with the `trigram` tokenizer
    ///   (SQLite ≥ 3.34) over the ASCII-folded text of string rows (`lower(str)`, the same
    ///   expression as `meta.str_fold`), case-sensitive since the text is already folded the
    ///   way `LIKE` folds. Its rowid names the row it indexes: `dataset_id * rowidStride +
    ///   seq` (`meta` has no rowid of its own; `seq` < `MetaRow.maxRowsPerDataset` <
    ///   `rowidStride`). Triggers on `meta` keep it in step (a contentless table forgets its
    ///   text, so a delete hands back the text it was given, which the row still holds), and
    ///   the migration fills it for the rows already there. A quoted FTS5 phrase of the
    ///   needle's trigrams finds the candidate rows; `SQLBuilder` keeps the `LIKE` test on
    ///   them as the exact rule, and needles under three characters (no trigram) take the
    ///   old path.
    /// - PostgreSQL: nothing (migration 4's `pg_trgm` index serves `contains` already); the
    ///   id is recorded so both stores keep one list of migrations.
    static func trigramText(_ dialect: SQLDialect) -> [String] {
        guard dialect == .sqlite else { return [] }
        let stride = trigramRowidStride
        return [
            "CREATE VIRTUAL TABLE meta_trgm USING fts5(s, content='', columnsize=0, tokenize='trigram case_sensitive 1')",
            """
            CREATE TRIGGER meta_trgm_ai AFTER INSERT ON meta WHEN new.vtype = 0 BEGIN
              INSERT INTO meta_trgm(rowid, s) VALUES (new.dataset_id * \(stride) + new.seq, lower(new.str));
            END
            """,
            """
            CREATE TRIGGER meta_trgm_ad AFTER DELETE ON meta WHEN old.vtype = 0 BEGIN
              INSERT INTO meta_trgm(meta_trgm, rowid, s) VALUES ('delete', old.dataset_id * \(stride) + old.seq, lower(old.str));
            END
            """,
            """
            CREATE TRIGGER meta_trgm_au AFTER UPDATE ON meta BEGIN
              INSERT INTO meta_trgm(meta_trgm, rowid, s)
                SELECT 'delete', old.dataset_id * \(stride) + old.seq, lower(old.str) WHERE old.vtype = 0;
              INSERT INTO meta_trgm(rowid, s)
                SELECT new.dataset_id * \(stride) + new.seq, lower(new.str) WHERE new.vtype = 0;
            END
            """,
            "INSERT INTO meta_trgm(rowid, s) SELECT dataset_id * \(stride) + seq, lower(str) FROM meta WHERE vtype = 0",
        ]
    }

    /// `meta_trgm.rowid = dataset_id * trigramRowidStride + seq`: a power of two above
    /// `MetaRow.maxRowsPerDataset` (a unit test holds the two together).
    public static let trigramRowidStride: Int64 = 1 << 17
}
