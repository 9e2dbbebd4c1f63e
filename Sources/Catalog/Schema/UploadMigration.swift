extension CatalogMigrations {
    /// Migration "3-uploads": `upload`, one row per upload through `PUT /api/uploads/{name}`
    /// (Docs/catalog.md, "Uploads"). While its body arrives a row is a reservation
    /// (`receiving`, `bytes` = what the uploader may still write); once complete it is
    /// `staged` at `staged_path` with its real size. A user's usage is the sum of `bytes` of
    /// their rows, so a reservation is taken before a byte is written and no byte beyond it.
    static func uploads(_ dialect: SQLDialect) -> [String] {
        let (int8, real) = dialect == .sqlite ? ("INTEGER", "REAL") : ("BIGINT", "DOUBLE PRECISION")
        return [
            """
            CREATE TABLE upload(
              id TEXT PRIMARY KEY,
              uploader TEXT NOT NULL,
              name TEXT NOT NULL,
              bytes \(int8) NOT NULL,
              status TEXT NOT NULL,
              staged_path TEXT UNIQUE,
              holder TEXT,
              created \(real) NOT NULL,
              updated \(real) NOT NULL)
            """,
            "CREATE INDEX upload_uploader ON upload(uploader, status)",
        ]
    }
}
