import Catalog
import Foundation
import GRDB

/// Writing a dataset (`record`) and reading rows of `dataset` back as `DatasetRecord`s: the
/// one mapping between the table and the model on SQLite (search reuses `fetchRecords`).
extension SQLiteCatalog {
    public func record(_ dataset: DatasetRecord, harvest: Harvest?) async throws -> DatasetRecord {
        let write = try PreparedWrite(dataset, harvest: harvest)
        return try await self.write("recording dataset \(write.given.location)") { db in
            try Self.store(db, write, keepingUnchanged: false).record
        }
    }

    public func recordBatch(_ items: [RecordItem]) async throws -> [RecordOutcome] {
        guard let first = items.first else { return [] }
        let writes = try items.map { try PreparedWrite($0.record, harvest: $0.harvest) }
        let what = items.count == 1 ? "recording dataset \(writes[0].given.location)"
            : "recording \(items.count) datasets from \(first.record.location)"
        return try await write(what) { db in try writes.map { try Self.store(db, $0, keepingUnchanged: true).outcome } }
    }

    /// Inserts or updates one dataset inside the caller's transaction. With
    /// `keepingUnchanged`, a location already recorded exactly so is not written at all.
    static func store(_ db: Database, _ write: PreparedWrite, keepingUnchanged: Bool) throws -> (record: DatasetRecord, outcome: RecordOutcome) {
        let given = write.given, document = write.document, rows = write.rows, body = write.body
        let dimensions = write.dimensions
        let old = try Self.fetchRecords(db, sql: "SELECT * FROM dataset WHERE location = ?", arguments: [given.location]).first
        if keepingUnchanged, let old, let id = old.id {
            let storedDocument = document == nil ? nil
                : try String.fetchOne(db, sql: "SELECT json FROM dataset_doc WHERE dataset_id = ?", arguments: [id])
            if old.alreadySays(given, document: document, storedDocument: storedDocument) { return (old, .unchanged) }
        }
        var stored = given
        let values: [(String, (any DatabaseValueConvertible)?)] = [
            ("name", given.name), ("root", given.root), ("source_path", given.sourcePath),
            ("source_part", given.sourcePart), ("format", given.format),
            ("source_bytes", given.sourceBytes), ("stored_bytes", given.storedBytes),
            ("checksum", given.checksum), ("file_mtime", given.fileModified), ("obs_time", given.observed),
            ("dimensions", dimensions), ("owner_group", given.access.ownerGroup),
            ("is_public", given.access.isPublic), ("uploader", given.uploader),
            ("status", given.status.rawValue), ("error", given.error), ("updated", given.updated),
        ]
        if let old, let id = old.id {
            stored.id = id; stored.uid = old.uid; stored.created = old.created
            let assignments = values.map { "\($0.0) = ?" }.joined(separator: ", ")
            try db.execute(sql: "UPDATE dataset SET \(assignments) WHERE id = ?",
                           arguments: StatementArguments(values.map(\.1) + [id]))
        } else {
            if stored.uid.isEmpty { stored.uid = StoredForm.newUID() }
            let all = values + [("uid", stored.uid), ("location", given.location), ("created", given.created)]
            let names = all.map(\.0).joined(separator: ", ")
            let marks = Array(repeating: "?", count: all.count).joined(separator: ", ")
            try db.execute(sql: "INSERT INTO dataset(\(names)) VALUES (\(marks))", arguments: StatementArguments(all.map(\.1)))
            stored.id = db.lastInsertedRowID
        }
        guard let id = stored.id else { throw CatalogError.storeFailed("recording \(given.location): no row id") }
        if old?.access.accessGroups != stored.access.accessGroups {
            try Self.replaceGroups(db, id: id, groups: stored.access.accessGroups)
        }
        if let rows, let document, let body {
            try db.execute(sql: "DELETE FROM meta WHERE dataset_id = ?", arguments: [id])
            let insert = try db.cachedStatement(
                sql: "INSERT INTO meta(dataset_id, seq, scope, key, idx, vtype, num, str) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for (seq, row) in rows.enumerated() {
                try insert.execute(arguments: [id, seq, row.scope, row.key, row.index, row.type.rawValue, row.number, row.text])
            }
            try db.execute(sql: "DELETE FROM dataset_doc WHERE dataset_id = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO dataset_doc(dataset_id, json) VALUES (?, ?)", arguments: [id, document])
            // Delete then insert (not REPLACE): the FTS5 triggers must see the old body go.
            try db.execute(sql: "DELETE FROM dataset_text WHERE dataset_id = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO dataset_text(dataset_id, body) VALUES (?, ?)", arguments: [id, body])
        }
        if old.map({ $0.access != stored.access || $0.status != stored.status || $0.root != stored.root }) ?? true {
            try Self.bumpAccessVersion(db)
        }
        return (stored, old == nil ? .added : .updated)
    }

    static func replaceGroups(_ db: Database, id: Int64, groups: Set<String>) throws {
        try db.execute(sql: "DELETE FROM dataset_group WHERE dataset_id = ?", arguments: [id])
        for group in groups.sorted() {
            try db.execute(sql: "INSERT INTO dataset_group(dataset_id, grp) VALUES (?, ?)", arguments: [id, group])
        }
    }

    /// Runs `sql`, which selects whole `dataset` rows (`SELECT * FROM dataset …` or `d.*`),
    /// and returns them as records in the order given, with their access groups.
    public static func fetchRecords(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [DatasetRecord] {
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        guard !rows.isEmpty else { return [] }
        let ids: [Int64] = rows.map { $0["id"] }
        var groups = [Int64: Set<String>]()
        // Bounded batches keep the statement under SQLite's variable limit.
        for start in stride(from: 0, to: ids.count, by: 500) {
            let batch = Array(ids[start..<min(start + 500, ids.count)])
            let marks = Array(repeating: "?", count: batch.count).joined(separator: ", ")
            for row in try Row.fetchAll(db, sql: "SELECT dataset_id, grp FROM dataset_group WHERE dataset_id IN (\(marks))",
                                        arguments: StatementArguments(batch)) {
                groups[row["dataset_id"], default: []].insert(row["grp"])
            }
        }
        return try rows.map { row in
            let id: Int64 = row["id"]
            let statusText: String = row["status"]
            guard let status = DatasetStatus(rawValue: statusText) else {
                throw CatalogError.storeFailed("dataset \(id) has an unknown status \(statusText)")
            }
            return DatasetRecord(
                id: id, uid: row["uid"], name: row["name"], root: row["root"], location: row["location"],
                sourcePath: row["source_path"], sourcePart: row["source_part"], format: row["format"],
                sourceBytes: row["source_bytes"], storedBytes: row["stored_bytes"], checksum: row["checksum"],
                fileModified: row["file_mtime"], observed: row["obs_time"],
                dimensions: try StoredForm.dimensions(row["dimensions"]),
                access: DatasetRule(ownerGroup: row["owner_group"], accessGroups: groups[id] ?? [], isPublic: row["is_public"]),
                uploader: row["uploader"], status: status, error: row["error"],
                created: row["created"], updated: row["updated"])
        }
    }
}
