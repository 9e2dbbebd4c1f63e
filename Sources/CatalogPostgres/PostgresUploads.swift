import Catalog
import Logging
import PostgresNIO

/// Uploads' bookkeeping on PostgreSQL: a change of a user's usage takes a per-uploader
/// advisory lock for its transaction, so two gateways (or two connections of one) never both
/// see room for the same bytes.
extension PostgresCatalog: UploadLedger {
    /// Lock key space of per-uploader reservations.
    static let uploadLock: Int32 = 7322

    public func reserveUpload(id: String, uploader: String, name: String, bytes: Int64, quota: Int64, holder: String,
                              now: Double) async throws -> UploadReservation {
        let logger = logger
        let name = StoredForm.text(name)
        return try await transaction("reserving \(bytes) bytes for an upload of \(uploader)") { connection in
            let used = try await Self.lockedUsage(connection, uploader, logger: logger)
            guard bytes >= 0, used <= quota, bytes <= quota - used else { return .overQuota(usedBytes: used) }
            try await connection.query("""
                INSERT INTO upload(id, uploader, name, bytes, status, holder, created, updated)
                VALUES (\(id), \(uploader), \(name), \(bytes), 'receiving', \(holder), \(now), \(now))
                """, logger: logger)
            return .reserved
        }
    }

    public func growUpload(id: String, uploader: String, by bytes: Int64, quota: Int64, now: Double) async throws -> UploadReservation {
        let logger = logger
        return try await transaction("growing the reservation of upload \(id)") { connection in
            let used = try await Self.lockedUsage(connection, uploader, logger: logger)
            guard bytes >= 0, used <= quota, bytes <= quota - used else { return .overQuota(usedBytes: used) }
            var found = false
            for try await _ in try await connection.query("""
                UPDATE upload SET bytes = bytes + \(bytes), updated = \(now) WHERE id = \(id) AND status = 'receiving' RETURNING id
                """, logger: logger) { found = true }
            guard found else { throw CatalogError.storeFailed("upload \(id) is not receiving") }
            return .reserved
        }
    }

    public func stageUpload(id: String, stagedPath: String, bytes: Int64, now: Double) async throws -> Bool {
        let logger = logger
        let path = StoredForm.text(stagedPath)
        return try await transaction("staging upload \(id) at \(path)") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.uploadLock), hashtext(\(path)))", logger: logger)
            var taken = false
            for try await _ in try await connection.query("SELECT 1 FROM upload WHERE staged_path = \(path)", logger: logger) {
                taken = true
            }
            if taken { return false }
            var found = false
            for try await _ in try await connection.query("""
                UPDATE upload SET status = 'staged', staged_path = \(path), bytes = \(bytes), holder = NULL, updated = \(now)
                WHERE id = \(id) AND status = 'receiving' RETURNING id
                """, logger: logger) { found = true }
            guard found else { throw CatalogError.storeFailed("upload \(id) is not receiving") }
            return true
        }
    }

    public func cancelUpload(id: String) async throws {
        let logger = logger
        _ = try await connection("forgetting upload \(id)") { connection in
            try await connection.query("DELETE FROM upload WHERE id = \(id) AND status = 'receiving'", logger: logger)
        }
    }

    public func dropReceivingUploads(holder: String) async throws -> Int {
        let logger = logger
        return try await connection("forgetting the unfinished uploads of \(holder)") { connection in
            var n = 0
            for try await _ in try await connection.query("""
                DELETE FROM upload WHERE holder = \(holder) AND status = 'receiving' RETURNING id
                """, logger: logger) { n += 1 }
            return n
        }
    }

    public func uploadUsage(uploader: String) async throws -> Int64 {
        let logger = logger
        return try await connection("reading the upload usage of \(uploader)") { connection in
            try await Self.usage(connection, uploader, logger: logger)
        }
    }

    public func uploadUsages() async throws -> [UploadUsage] {
        let logger = logger
        return try await connection("reading the upload usage") { connection in
            var out = [UploadUsage]()
            for try await (user, receiving, staged, n) in try await connection.query("""
                SELECT uploader,
                  coalesce(sum(CASE WHEN status = 'receiving' THEN bytes END), 0)::bigint,
                  coalesce(sum(CASE WHEN status = 'staged' THEN bytes END), 0)::bigint,
                  count(CASE WHEN status = 'staged' THEN 1 END)
                FROM upload GROUP BY uploader ORDER BY uploader COLLATE "C"
                """, logger: logger).decode((String, Int64, Int64, Int64).self) {
                out.append(UploadUsage(uploader: user, receivingBytes: receiving, stagedBytes: staged, stagedUploads: n))
            }
            return out
        }
    }

    public func uploader(stagedPath: String) async throws -> String? {
        let logger = logger
        let path = StoredForm.text(stagedPath)
        return try await connection("reading the uploader of \(path)") { connection in
            var found: String?
            for try await user in try await connection.query("""
                SELECT uploader FROM upload WHERE staged_path = \(path) AND status = 'staged'
                """, logger: logger).decode(String.self) { found = user }
            return found
        }
    }

    /// The usage after taking the uploader's lock for the transaction.
    static func lockedUsage(_ connection: PostgresConnection, _ uploader: String, logger: Logger) async throws -> Int64 {
        try await connection.query("SELECT pg_advisory_xact_lock(\(uploadLock), hashtext(\(uploader)))", logger: logger)
        return try await usage(connection, uploader, logger: logger)
    }

    static func usage(_ connection: PostgresConnection, _ uploader: String, logger: Logger) async throws -> Int64 {
        var used: Int64 = 0
        for try await n in try await connection.query("SELECT coalesce(sum(bytes), 0)::bigint FROM upload WHERE uploader = \(uploader)",
                                                      logger: logger).decode(Int64.self) { used = n }
        return used
    }
}
