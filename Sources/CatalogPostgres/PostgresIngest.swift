import Catalog
import Foundation
import Logging
import PostgresNIO

/// The watch ingest's ledger (`ingest_file`) on PostgreSQL: a claim takes a per-path advisory
/// lock for its transaction, so two watchers (on any hosts) never both take a path, and a new
/// path's first INSERT never races another.
extension PostgresCatalog: IngestLedger {
    /// Lock key space of per-path ingest claims.
    static let ingestLock: Int32 = 7321

    public func ingestState(path: String) async throws -> IngestFileState? {
        let logger = logger
        return try await connection("reading the ingest state of \(path)") { connection in
            try await Self.ingestRow(connection, path: StoredForm.text(path), lock: false, logger: logger)
        }
    }

    public func claimIngest(path: String, identity: FileIdentity, output: String, holder: String, leaseUntil: Double,
                            deadHolders: Set<String>, now: Double) async throws -> IngestClaim? {
        let path = StoredForm.text(path)
        let output = StoredForm.text(output)
        let logger = logger
        return try await transaction("claiming \(path) for ingest") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.ingestLock), hashtext(\(path)))", logger: logger)
            let previous = try await Self.ingestRow(connection, path: path, lock: true, logger: logger)
            if let previous {
                guard IngestClaimRule.mayClaim(previous, identity: identity, holder: holder, deadHolders: deadHolders, now: now) else {
                    return nil
                }
                try await connection.query("""
                    UPDATE ingest_file SET size = \(identity.size), mtime_ns = \(identity.mtimeNanoseconds), inode = \(identity.inode),
                      status = 'converting', dataset_uid = NULL, error = NULL, attempts = attempts + 1, holder = \(holder),
                      lease_until = \(leaseUntil), updated = \(now) WHERE path = \(path)
                    """, logger: logger)
                return IngestClaim(previous: previous, output: previous.output, attempts: previous.attempts + 1)
            }
            try await connection.query("""
                INSERT INTO ingest_file(path, size, mtime_ns, inode, status, output, attempts, holder, lease_until, updated)
                VALUES (\(path), \(identity.size), \(identity.mtimeNanoseconds), \(identity.inode), 'converting', \(output), 1,
                        \(holder), \(leaseUntil), \(now))
                """, logger: logger)
            return IngestClaim(previous: nil, output: output, attempts: 1)
        }
    }

    public func renewIngestLeases(paths: [String], holder: String, leaseUntil: Double) async throws {
        guard !paths.isEmpty else { return }
        let paths = paths.map { StoredForm.text($0) }
        let logger = logger
        _ = try await connection("renewing ingest leases") { connection in
            try await connection.query("""
                UPDATE ingest_file SET lease_until = \(leaseUntil)
                WHERE path = ANY(\(paths)) AND holder = \(holder) AND status = 'converting'
                """, logger: logger)
        }
    }

    public func finishIngest(path: String, holder: String, status: IngestStatus, datasetUID: String?, error: String?,
                             now: Double) async throws {
        let path = StoredForm.text(path)
        let error = StoredForm.text(error)
        let logger = logger
        _ = try await connection("recording the ingest of \(path)") { connection in
            try await connection.query("""
                UPDATE ingest_file SET status = \(status.rawValue), dataset_uid = \(datasetUID), error = \(error), holder = NULL,
                  lease_until = NULL, updated = \(now) WHERE path = \(path) AND holder = \(holder)
                """, logger: logger)
        }
    }

    public func ingestPath(output: String) async throws -> String? {
        let output = StoredForm.text(output)
        let logger = logger
        return try await connection("reading the ingest of output \(output)") { connection in
            var found: String?
            for try await path in try await connection.query("SELECT path FROM ingest_file WHERE output = \(output) LIMIT 1",
                                                             logger: logger).decode(String.self) {
                found = path
            }
            return found
        }
    }

    static func ingestRow(_ connection: PostgresConnection, path: String, lock: Bool, logger: Logger) async throws -> IngestFileState? {
        let query: PostgresQuery = lock ? "SELECT * FROM ingest_file WHERE path = \(path) FOR UPDATE"
                                        : "SELECT * FROM ingest_file WHERE path = \(path)"
        var found: IngestFileState?
        for try await row in try await connection.query(query, logger: logger) {
            let r = row.makeRandomAccess()
            let statusText = try r["status"].decode(String.self)
            guard let status = IngestStatus(rawValue: statusText) else {
                throw CatalogError.storeFailed("ingest_file row of \(path) has an unknown status '\(statusText)'")
            }
            found = IngestFileState(
                path: try r["path"].decode(String.self),
                identity: FileIdentity(size: try r["size"].decode(Int64.self), mtimeNanoseconds: try r["mtime_ns"].decode(Int64.self),
                                       inode: try r["inode"].decode(Int64.self)),
                status: status, output: try r["output"].decode(String.self), datasetUID: try r["dataset_uid"].decode(String?.self),
                error: try r["error"].decode(String?.self), attempts: Int(try r["attempts"].decode(Int32.self)),
                holder: try r["holder"].decode(String?.self), leaseUntil: try r["lease_until"].decode(Double?.self),
                updated: try r["updated"].decode(Double.self))
        }
        return found
    }
}
