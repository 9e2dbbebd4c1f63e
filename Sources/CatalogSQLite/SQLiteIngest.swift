import Catalog
import Foundation
import GRDB

/// The watch ingest's ledger (`ingest_file`) on SQLite: every claim is one IMMEDIATE write
/// transaction, so two watchers sharing the file never both take a path.
extension SQLiteCatalog: IngestLedger {
    public func ingestState(path: String) async throws -> IngestFileState? {
        try await read("reading the ingest state of \(path)") { db in try Self.ingestRow(db, path: path) }
    }

    public func claimIngest(path: String, identity: FileIdentity, output: String, holder: String, leaseUntil: Double,
                            deadHolders: Set<String>, now: Double) async throws -> IngestClaim? {
        let path = StoredForm.text(path)
        return try await write("claiming \(path) for ingest") { db in
            let previous = try Self.ingestRow(db, path: path)
            if let previous {
                guard IngestClaimRule.mayClaim(previous, identity: identity, holder: holder, deadHolders: deadHolders, now: now) else { return nil }
                try db.execute(sql: """
                    UPDATE ingest_file SET size = ?, mtime_ns = ?, inode = ?, status = 'converting', dataset_uid = NULL,
                      error = NULL, attempts = attempts + 1, holder = ?, lease_until = ?, updated = ? WHERE path = ?
                    """, arguments: [identity.size, identity.mtimeNanoseconds, identity.inode, holder, leaseUntil, now, path])
                return IngestClaim(previous: previous, output: previous.output, attempts: previous.attempts + 1)
            }
            try db.execute(sql: """
                INSERT INTO ingest_file(path, size, mtime_ns, inode, status, output, attempts, holder, lease_until, updated)
                VALUES (?, ?, ?, ?, 'converting', ?, 1, ?, ?, ?)
                """, arguments: [path, identity.size, identity.mtimeNanoseconds, identity.inode, StoredForm.text(output),
                                 holder, leaseUntil, now])
            return IngestClaim(previous: nil, output: output, attempts: 1)
        }
    }

    public func renewIngestLeases(paths: [String], holder: String, leaseUntil: Double) async throws {
        guard !paths.isEmpty else { return }
        try await write("renewing ingest leases") { db in
            for path in paths {
                try db.execute(sql: "UPDATE ingest_file SET lease_until = ? WHERE path = ? AND holder = ? AND status = 'converting'",
                               arguments: [leaseUntil, StoredForm.text(path), holder])
            }
        }
    }

    public func finishIngest(path: String, holder: String, status: IngestStatus, datasetUID: String?, error: String?,
                             now: Double) async throws {
        try await write("recording the ingest of \(path)") { db in
            try db.execute(sql: """
                UPDATE ingest_file SET status = ?, dataset_uid = ?, error = ?, holder = NULL, lease_until = NULL, updated = ?
                WHERE path = ? AND holder = ?
                """, arguments: [status.rawValue, datasetUID, StoredForm.text(error), now, StoredForm.text(path), holder])
        }
    }

    public func ingestPath(output: String) async throws -> String? {
        try await read("reading the ingest of output \(output)") { db in
            try String.fetchOne(db, sql: "SELECT path FROM ingest_file WHERE output = ? LIMIT 1", arguments: [StoredForm.text(output)])
        }
    }

    static func ingestRow(_ db: Database, path: String) throws -> IngestFileState? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM ingest_file WHERE path = ?", arguments: [StoredForm.text(path)]) else {
            return nil
        }
        let statusText: String = row["status"]
        guard let status = IngestStatus(rawValue: statusText) else {
            throw CatalogError.storeFailed("ingest_file row of \(path) has an unknown status '\(statusText)'")
        }
        return IngestFileState(path: row["path"], identity: FileIdentity(size: row["size"], mtimeNanoseconds: row["mtime_ns"], inode: row["inode"]),
                               status: status, output: row["output"], datasetUID: row["dataset_uid"], error: row["error"],
                               attempts: row["attempts"], holder: row["holder"], leaseUntil: row["lease_until"], updated: row["updated"])
    }
}
