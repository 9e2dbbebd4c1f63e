import Catalog
import Foundation
import Logging
import PostgresNIO

/// Writing a dataset (`record`) and reading rows of `dataset` back as `DatasetRecord`s: the
/// one mapping between the table and the model on PostgreSQL (search reuses `fetchRecords`).
extension PostgresCatalog {
    /// Lock key space of per-location advisory locks: two writers recording one new location
    /// at once take turns instead of one failing on the unique index.
    static let recordLock: Int32 = 7320
    /// Rows per INSERT of harvested metadata (8 values each, under the 65,535 bind limit).
    static let metaRowsPerInsert = 1000

    public func record(_ dataset: DatasetRecord, harvest: Harvest?) async throws -> DatasetRecord {
        let write = try PreparedWrite(dataset, harvest: harvest)
        let logger = logger
        return try await transaction("recording dataset \(write.given.location)") { connection in
            let (record, _, accessMoved) = try await Self.store(connection, write, keepingUnchanged: false, logger: logger)
            if accessMoved { try await Self.bumpAccessVersion(connection, logger: logger) }
            return record
        }
    }

    public func recordBatch(_ items: [RecordItem]) async throws -> [RecordOutcome] {
        guard let first = items.first else { return [] }
        let writes = try items.map { try PreparedWrite($0.record, harvest: $0.harvest) }
        // Per-location locks are taken in one order, so two batch writers never wait on each other in a cycle.
        let order = writes.indices.sorted { writes[$0].given.location < writes[$1].given.location }
        let logger = logger
        let what = items.count == 1 ? "recording dataset \(writes[0].given.location)"
            : "recording \(items.count) datasets from \(first.record.location)"
        return try await transaction(what) { connection in
            var outcomes = [RecordOutcome](repeating: .unchanged, count: writes.count)
            var accessMoved = false
            for i in order {
                let written = try await Self.store(connection, writes[i], keepingUnchanged: true, logger: logger)
                outcomes[i] = written.outcome
                accessMoved = accessMoved || written.accessMoved
            }
            // Once per batch, last: the version row is locked only for the end of the transaction.
            if accessMoved { try await Self.bumpAccessVersion(connection, logger: logger) }
            return outcomes
        }
    }

    /// Inserts or updates one dataset inside the caller's transaction. With
    /// `keepingUnchanged`, a location already recorded exactly so is not written at all.
    /// `accessMoved`: the caller must move the access version (a new dataset, or one whose
    /// access, status or root changed). A new row has nothing to delete, so it costs five
    /// round trips (six with access groups), not eleven: a first `catalog add` is bound by them.
    static func store(_ connection: PostgresConnection, _ write: PreparedWrite, keepingUnchanged: Bool,
                      logger: Logger) async throws -> (record: DatasetRecord, outcome: RecordOutcome, accessMoved: Bool) {
        let given = write.given, document = write.document, rows = write.rows, body = write.body
        let dimensions = write.dimensions
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.recordLock), hashtext(\(given.location)))", logger: logger)
        let old = try await Self.fetchRecords(connection, "SELECT * FROM dataset WHERE location = \(given.location) FOR UPDATE",
                                              logger: logger).first
        if keepingUnchanged, let old, let id = old.id {
            var storedDocument: String?
            if document != nil {
                for try await json in try await connection.query("SELECT json FROM dataset_doc WHERE dataset_id = \(id)",
                                                                 logger: logger).decode(String.self) {
                    storedDocument = json
                }
            }
            if old.alreadySays(given, document: document, storedDocument: storedDocument) { return (old, .unchanged, false) }
        }
        var stored = given
        var binds = PostgresBindings()
        let names = ["name", "root", "source_path", "source_part", "format", "source_bytes", "stored_bytes", "checksum",
                     "file_mtime", "obs_time", "dimensions", "owner_group", "is_public", "uploader", "status", "error", "updated"]
        binds.append(given.name); binds.append(given.root); binds.append(given.sourcePath)
        binds.append(given.sourcePart); binds.append(given.format); binds.append(given.sourceBytes)
        binds.append(given.storedBytes); binds.append(given.checksum); binds.append(given.fileModified)
        binds.append(given.observed); binds.append(dimensions); binds.append(given.access.ownerGroup)
        binds.append(given.access.isPublic); binds.append(given.uploader); binds.append(given.status.rawValue)
        binds.append(given.error); binds.append(given.updated)
        if let old, let id = old.id {
            stored.id = id; stored.uid = old.uid; stored.created = old.created
            let assignments = names.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
            binds.append(id)
            try await connection.query(PostgresQuery(unsafeSQL: "UPDATE dataset SET \(assignments) WHERE id = $\(names.count + 1)",
                                                     binds: binds), logger: logger)
        } else {
            if stored.uid.isEmpty { stored.uid = StoredForm.newUID() }
            binds.append(stored.uid); binds.append(given.location); binds.append(given.created)
            let all = names + ["uid", "location", "created"]
            let marks = (1...all.count).map { "$\($0)" }.joined(separator: ", ")
            let sql = "INSERT INTO dataset(\(all.joined(separator: ", "))) VALUES (\(marks)) RETURNING id"
            for try await id in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).decode(Int64.self) {
                stored.id = id
            }
        }
        guard let id = stored.id else { throw CatalogError.storeFailed("recording \(given.location): no row id") }
        if old?.access.accessGroups ?? [] != stored.access.accessGroups {
            try await Self.replaceGroups(connection, id: id, groups: stored.access.accessGroups, deleting: old != nil, logger: logger)
        }
        if let rows, let document, let body {
            if old != nil {
                try await connection.query("DELETE FROM meta WHERE dataset_id = \(id)", logger: logger)
                try await connection.query("DELETE FROM dataset_doc WHERE dataset_id = \(id)", logger: logger)
                try await connection.query("DELETE FROM dataset_text WHERE dataset_id = \(id)", logger: logger)
            }
            try await Self.insertMeta(connection, id: id, rows: rows, logger: logger)
            try await connection.query("""
                WITH doc AS (INSERT INTO dataset_doc(dataset_id, json) VALUES (\(id), \(document)))
                INSERT INTO dataset_text(dataset_id, body) VALUES (\(id), \(body))
                """, logger: logger)
        }
        let accessMoved = old.map { $0.access != stored.access || $0.status != stored.status || $0.root != stored.root } ?? true
        return (stored, old == nil ? .added : .updated, accessMoved)
    }

    static func insertMeta(_ connection: PostgresConnection, id: Int64, rows: [MetaRow], logger: Logger) async throws {
        for start in stride(from: 0, to: rows.count, by: metaRowsPerInsert) {
            let end = min(start + metaRowsPerInsert, rows.count)
            var binds = PostgresBindings()
            var tuples = [String]()
            tuples.reserveCapacity(end - start)
            for seq in start..<end {
                let row = rows[seq]
                let n = binds.count
                tuples.append("($\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5), $\(n + 6), $\(n + 7), $\(n + 8))")
                binds.append(id); binds.append(Int32(seq)); binds.append(row.scope); binds.append(row.key)
                binds.append(Int32(clamping: row.index)); binds.append(Int16(row.type.rawValue)); binds.append(row.number)
                binds.append(row.text)
            }
            let sql = "INSERT INTO meta(dataset_id, seq, scope, key, idx, vtype, num, str) VALUES " + tuples.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        }
    }

    static func replaceGroups(_ connection: PostgresConnection, id: Int64, groups: Set<String>, deleting: Bool = true,
                              logger: Logger) async throws {
        if deleting { try await connection.query("DELETE FROM dataset_group WHERE dataset_id = \(id)", logger: logger) }
        let sorted = groups.sorted()
        guard !sorted.isEmpty else { return }
        try await connection.query("INSERT INTO dataset_group(dataset_id, grp) SELECT \(id), unnest(\(sorted)::text[])", logger: logger)
    }

    /// Runs `query`, which selects whole `dataset` rows (`SELECT * FROM dataset …` or `d.*`),
    /// and returns them as records in the order given, with their access groups.
    public static func fetchRecords(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> [DatasetRecord] {
        var records = [DatasetRecord]()
        for try await row in try await connection.query(query, logger: logger) {
            let r = row.makeRandomAccess()
            let id = try r["id"].decode(Int64.self)
            let statusText = try r["status"].decode(String.self)
            guard let status = DatasetStatus(rawValue: statusText) else {
                throw CatalogError.storeFailed("dataset \(id) has an unknown status \(statusText)")
            }
            records.append(DatasetRecord(
                id: id, uid: try r["uid"].decode(String.self), name: try r["name"].decode(String.self),
                root: try r["root"].decode(String?.self), location: try r["location"].decode(String.self),
                sourcePath: try r["source_path"].decode(String?.self), sourcePart: try r["source_part"].decode(String?.self),
                format: try r["format"].decode(String?.self), sourceBytes: try r["source_bytes"].decode(Int64?.self),
                storedBytes: try r["stored_bytes"].decode(Int64?.self), checksum: try r["checksum"].decode(String?.self),
                fileModified: try r["file_mtime"].decode(Double?.self), observed: try r["obs_time"].decode(Double?.self),
                dimensions: try StoredForm.dimensions(try r["dimensions"].decode(String?.self)),
                access: DatasetRule(ownerGroup: try r["owner_group"].decode(String?.self), accessGroups: [],
                                    isPublic: try r["is_public"].decode(Bool.self)),
                uploader: try r["uploader"].decode(String?.self), status: status, error: try r["error"].decode(String?.self),
                created: try r["created"].decode(Double.self), updated: try r["updated"].decode(Double.self)))
        }
        guard !records.isEmpty else { return records }
        let ids = records.compactMap(\.id)
        var groups = [Int64: Set<String>]()
        for try await (id, group) in try await connection.query(
            "SELECT dataset_id, grp FROM dataset_group WHERE dataset_id = ANY(\(ids))", logger: logger).decode((Int64, String).self) {
            groups[id, default: []].insert(group)
        }
        for i in records.indices {
            if let id = records[i].id { records[i].access.accessGroups = groups[id] ?? [] }
        }
        return records
    }
}
