import Catalog
import GRDB

/// Search on the SQLite store: the SQL comes from `SQLBuilder` (dialect `.sqlite`), every
/// value bound.
extension SQLiteCatalog {
    public func search(_ query: SearchQuery, visibleTo viewer: Viewer) async throws -> SearchPage {
        let statement = SQLBuilder.search(query, visibleTo: viewer, dialect: .sqlite)
        return try await pool.read { db in
            // The one mapping of `dataset` rows to records (SQLiteRecords.swift).
            let records = try Self.fetchRecords(db, sql: statement.sql, arguments: Self.arguments(statement.binds))
            return SearchPage.assemble(records, for: query)
        }
    }

    public func distinctValues(keys: [String], column: DatasetColumn?, visibleTo viewer: Viewer, limit: Int) async throws -> [String] {
        let statement = SQLBuilder.distinctValues(keys: keys, column: column, visibleTo: viewer, limit: limit, dialect: .sqlite)
        return try await pool.read { db in
            try String.fetchAll(db, sql: statement.sql, arguments: Self.arguments(statement.binds))
        }
    }

    /// Refreshes the query planner's statistics (`ANALYZE`). Without them SQLite plans the cone
    /// search badly (plan §10: p50 307 ms before, 5–12 ms after at 100,000 datasets): call it
    /// after bulk adds (the harvest's batch ingest, `catalog add` over a tree, the bench).
    public func optimize() async throws {
        try await pool.write { db in try db.execute(sql: "ANALYZE") }
    }

    static func arguments(_ binds: [SQLValue]) -> StatementArguments {
        StatementArguments(binds.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case let .text(s): s
            case let .double(d): d
            case let .int(i): i
            }
        })
    }
}
