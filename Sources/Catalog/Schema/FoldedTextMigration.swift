extension CatalogMigrations {
    /// Migration "4-folded-text": indexes for the `prefix` and `contains` text elements, which
    /// compare ASCII-case-folded strings (`SQLBuilder`, "Case folding"). Before it, both
    /// narrowed by key only and folded every string of the key (a scan of 10^5 rows at 10^5
    /// datasets).
    /// - SQLite: `meta.str_fold`, a virtual generated column `lower(str)` (SQLite's `lower` is
    ///   ASCII-only, as its `LIKE` is), with an index on `(key, str_fold)` over string rows: a
    ///   prefix is a range on it.
    /// - PostgreSQL: the same index on the expression `translate(str, 'A…Z', 'a…z')` in byte
    ///   order (`COLLATE "C"`), and, where the `pg_trgm` extension can be created (Debian's
    ///   postgresql-contrib; a trusted extension since PostgreSQL 13), a trigram GIN index on
    ///   it that `LIKE '%…%'` uses for needles of three characters or more. Without pg_trgm
    ///   the migration still applies and `contains` scans as before.
    static func foldedText(_ dialect: SQLDialect) -> [String] {
        switch dialect {
        case .sqlite:
            return [
                "ALTER TABLE meta ADD COLUMN str_fold TEXT GENERATED ALWAYS AS (lower(str)) VIRTUAL",
                "CREATE INDEX meta_key_fold ON meta(key, str_fold, dataset_id) WHERE vtype = 0",
            ]
        case .postgres:
            let fold = SQLBuilder.postgresFold("str")
            return [
                #"CREATE INDEX meta_key_fold ON meta(key, (\#(fold)) COLLATE "C", dataset_id) WHERE vtype = 0"#,
                """
                DO $$
                BEGIN
                  BEGIN
                    CREATE EXTENSION IF NOT EXISTS pg_trgm;
                  EXCEPTION WHEN OTHERS THEN
                    RAISE NOTICE 'pg_trgm is not available (%): text contains-searches scan', SQLERRM;
                  END;
                  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                    EXECUTE 'CREATE INDEX meta_fold_trgm ON meta USING gin ((\(fold.replacingOccurrences(of: "'", with: "''"))) gin_trgm_ops) WHERE vtype = 0';
                  END IF;
                END
                $$
                """,
            ]
        }
    }
}
