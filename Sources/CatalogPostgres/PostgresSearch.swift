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

    /// Runs a statement selecting the columns of `SQLBuilder.datasetColumns` (in that order) and
    /// returns the rows as records, in order, with their access groups: the one mapping of
    /// `dataset` rows to records on PostgreSQL (the store's other reads should use it too).
    func fetchRecords(_ statement: SQLStatement) async throws -> [DatasetRecord] {
        var rows = [(record: DatasetRecord, status: String)]()
        for try await row in try await client.query(Self.query(statement), logger: logger) {
            rows.append(try Self.record(row.makeRandomAccess()))
        }
        guard !rows.isEmpty else { return [] }
        var groups = [Int64: Set<String>]()
        let ids = rows.compactMap(\.record.id)
        for start in stride(from: 0, to: ids.count, by: 500) {
            let g = SQLBuilder.groups(ofDatasets: Array(ids[start..<min(start + 500, ids.count)]), dialect: .postgres)
            for try await (id, group) in try await client.query(Self.query(g), logger: logger).decode((Int64, String).self) {
                groups[id, default: []].insert(group)
            }
        }
        return try rows.map { row in
            guard let status = DatasetStatus(rawValue: row.status) else {
                throw CatalogError.storeFailed("dataset \(row.record.uid) has an unknown status \(row.status)")
            }
            var record = row.record
            record.status = status
            record.access.accessGroups = groups[record.id ?? -1] ?? []
            return record
        }
    }

    static func record(_ r: PostgresRandomAccessRow) throws -> (record: DatasetRecord, status: String) {
        let record = try DatasetRecord(
            id: r[0].decode(Int64.self), uid: r[1].decode(String.self), name: r[2].decode(String.self),
            root: r[3].decode(String?.self), location: r[4].decode(String.self), sourcePath: r[5].decode(String?.self),
            sourcePart: r[6].decode(String?.self), format: r[7].decode(String?.self), sourceBytes: r[8].decode(Int64?.self),
            storedBytes: r[9].decode(Int64?.self), checksum: r[10].decode(String?.self), fileModified: r[11].decode(Double?.self),
            observed: r[12].decode(Double?.self), dimensions: StoredForm.dimensions(r[13].decode(String?.self)),
            access: DatasetRule(ownerGroup: r[14].decode(String?.self), isPublic: r[15].decode(Bool.self)),
            uploader: r[16].decode(String?.self), status: .failed, error: r[18].decode(String?.self),
            created: r[19].decode(Double.self), updated: r[20].decode(Double.self))
        return (record, try r[17].decode(String.self))
    }
}
