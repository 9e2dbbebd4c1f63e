import Catalog
import GRDB

/// Uploads' bookkeeping on SQLite: every reservation is one IMMEDIATE write transaction, and
/// SQLite has one writer at a time, so the check of the usage and the insert are atomic.
extension SQLiteCatalog: UploadLedger {
    public func reserveUpload(id: String, uploader: String, name: String, bytes: Int64, quota: Int64, holder: String,
                              now: Double) async throws -> UploadReservation {
        try await write("reserving \(bytes) bytes for an upload of \(uploader)") { db in
            let used = try Self.usage(db, uploader)
            guard bytes >= 0, used <= quota, bytes <= quota - used else { return .overQuota(usedBytes: used) }
            try db.execute(sql: """
                INSERT INTO upload(id, uploader, name, bytes, status, holder, created, updated)
                VALUES (?, ?, ?, ?, 'receiving', ?, ?, ?)
                """, arguments: [id, uploader, StoredForm.text(name), bytes, holder, now, now])
            return .reserved
        }
    }

    public func growUpload(id: String, uploader: String, by bytes: Int64, quota: Int64, now: Double) async throws -> UploadReservation {
        try await write("growing the reservation of upload \(id)") { db in
            let used = try Self.usage(db, uploader)
            guard bytes >= 0, used <= quota, bytes <= quota - used else { return .overQuota(usedBytes: used) }
            try db.execute(sql: "UPDATE upload SET bytes = bytes + ?, updated = ? WHERE id = ? AND status = 'receiving'",
                           arguments: [bytes, now, id])
            guard db.changesCount == 1 else { throw CatalogError.storeFailed("upload \(id) is not receiving") }
            return .reserved
        }
    }

    public func stageUpload(id: String, stagedPath: String, bytes: Int64, now: Double) async throws -> Bool {
        let path = StoredForm.text(stagedPath)
        return try await write("staging upload \(id) at \(path)") { db in
            if try Int64.fetchOne(db, sql: "SELECT 1 FROM upload WHERE staged_path = ?", arguments: [path]) != nil { return false }
            try db.execute(sql: """
                UPDATE upload SET status = 'staged', staged_path = ?, bytes = ?, holder = NULL, updated = ?
                WHERE id = ? AND status = 'receiving'
                """, arguments: [path, bytes, now, id])
            guard db.changesCount == 1 else { throw CatalogError.storeFailed("upload \(id) is not receiving") }
            return true
        }
    }

    public func cancelUpload(id: String) async throws {
        try await write("forgetting upload \(id)") { db in
            try db.execute(sql: "DELETE FROM upload WHERE id = ? AND status = 'receiving'", arguments: [id])
        }
    }

    public func dropReceivingUploads(holder: String) async throws -> Int {
        try await write("forgetting the unfinished uploads of \(holder)") { db in
            try db.execute(sql: "DELETE FROM upload WHERE holder = ? AND status = 'receiving'", arguments: [holder])
            return db.changesCount
        }
    }

    public func uploadUsage(uploader: String) async throws -> Int64 {
        try await read("reading the upload usage of \(uploader)") { db in try Self.usage(db, uploader) }
    }

    public func uploadUsages() async throws -> [UploadUsage] {
        try await read("reading the upload usage") { db in
            try Row.fetchAll(db, sql: """
                SELECT uploader,
                  coalesce(sum(CASE WHEN status = 'receiving' THEN bytes END), 0) AS receiving,
                  coalesce(sum(CASE WHEN status = 'staged' THEN bytes END), 0) AS staged,
                  count(CASE WHEN status = 'staged' THEN 1 END) AS n
                FROM upload GROUP BY uploader ORDER BY uploader
                """).map { r in
                UploadUsage(uploader: r["uploader"], receivingBytes: r["receiving"], stagedBytes: r["staged"], stagedUploads: r["n"])
            }
        }
    }

    public func uploader(stagedPath: String) async throws -> String? {
        try await read("reading the uploader of \(stagedPath)") { db in
            try String.fetchOne(db, sql: "SELECT uploader FROM upload WHERE staged_path = ? AND status = 'staged'",
                                arguments: [StoredForm.text(stagedPath)])
        }
    }

    static func usage(_ db: Database, _ uploader: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT coalesce(sum(bytes), 0) FROM upload WHERE uploader = ?", arguments: [uploader]) ?? 0
    }
}
