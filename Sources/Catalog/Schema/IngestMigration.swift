extension CatalogMigrations {
    /// Migration "2-ingest": `ingest_file`, the watcher's ledger (Docs/catalog.md, "Watch").
    /// One row per watched source path: the identity (size, mtime in ns, inode) it was last
    /// taken with, its state (`converting` under a lease, `done`, `failed` with the error), the
    /// output it goes to (kept, so a path's output name never changes), and the dataset made.
    /// A `converting` row whose lease ran out belongs to a dead watcher: another takes it over.
    static func ingest(_ dialect: SQLDialect) -> [String] {
        let (int8, real) = dialect == .sqlite ? ("INTEGER", "REAL") : ("BIGINT", "DOUBLE PRECISION")
        return [
            """
            CREATE TABLE ingest_file(
              path TEXT PRIMARY KEY,
              size \(int8) NOT NULL,
              mtime_ns \(int8) NOT NULL,
              inode \(int8) NOT NULL,
              status TEXT NOT NULL,
              output TEXT NOT NULL,
              dataset_uid TEXT,
              error TEXT,
              attempts INTEGER NOT NULL DEFAULT 0,
              holder TEXT,
              lease_until \(real),
              updated \(real) NOT NULL)
            """,
            "CREATE INDEX ingest_file_status ON ingest_file(status, updated)",
            "CREATE INDEX ingest_file_output ON ingest_file(output)",
        ]
    }
}
