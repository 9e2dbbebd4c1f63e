import Catalog
import PostgresNIO

/// Search on the PostgreSQL store: the SQL comes from `SQLBuilder` (dialect `.postgres`), every
/// value bound (`PostgresQuery(unsafeSQL:binds:)` takes the builder's text, which holds no user
/// string, and the values separately).
extension PostgresCatalog {
    public func search(_ query: SearchQuery, visibleTo viewer: Viewer) async throws -> SearchPage {
        let statement = SQLBuilder.search(query, visibleTo: viewer, dialect: .postgres)
        let records = try await fetchRecords(statement)
        return SearchPage.assemble(records, for: query)
    }

    public func distinctValues(keys: [String], column: DatasetColumn?, visibleTo viewer: Viewer, limit: Int) async throws -> [String] {
        let statement = SQLBuilder.distinctValues(keys: keys, column: column, visibleTo: viewer, limit: limit, dialect: .postgres)
        var result = [String]()
        for try await (value,) in try await client.query(Self.query(statement), logger: logger).decode((String,).self) {
            result.append(value)
        }
        return result
    }

    /// Refreshes the planner's statistics (`ANALYZE`); PostgreSQL's autovacuum does it too, but
    /// only some time after a bulk load, and until then the search plans badly (plan §4).
    public func optimize() async throws {
        try await client.query(PostgresQuery(unsafeSQL: "ANALYZE"), logger: logger)
    }

    static func query(_ statement: SQLStatement) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: statement.binds.count)
        for value in statement.binds {
            switch value {
            case let .text(s): try binds.append(s)
            case let .double(d): try binds.append(d)
            case let .int(i): try binds.append(i)
            }
        }
        return PostgresQuery(unsafeSQL: statement.sql, binds: binds)
    }

    /// Runs a statement selecting whole `dataset` rows through the store's one mapping of rows
    /// to records (`fetchRecords(_:_:logger:)`, with their access groups).
    func fetchRecords(_ statement: SQLStatement) async throws -> [DatasetRecord] {
        let query = try Self.query(statement)
        return try await client.withConnection { connection in
            try await Self.fetchRecords(connection, query, logger: self.logger)
        }
    }
}
