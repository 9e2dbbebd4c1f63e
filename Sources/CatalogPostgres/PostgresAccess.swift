import Catalog
import Foundation
import PostgresNIO

/// Grants, revokes and the access snapshot the gateway's object routes use.
extension PostgresCatalog {
    public func changeAccess(_ selector: DatasetSelector, _ change: AccessChange) async throws -> Int {
        let query: PostgresQuery
        let name: String
        switch selector {
        case let .uid(uid):
            name = uid
            query = "SELECT * FROM dataset WHERE uid = \(StoredForm.text(uid)) FOR UPDATE"
        case let .location(location):
            name = location
            query = "SELECT * FROM dataset WHERE location = \(StoredForm.text(location)) FOR UPDATE"
        }
        let logger = logger
        return try await transaction("changing access of \(name)") { connection in
            let found = try await Self.fetchRecords(connection, query, logger: logger)
            var changed = false
            for record in found {
                guard let id = record.id else { continue }
                let rule = record.access.applying(change)
                guard rule != record.access else { continue }
                changed = true
                try await connection.query("""
                    UPDATE dataset SET owner_group = \(rule.ownerGroup), is_public = \(rule.isPublic),
                      updated = \(Date().timeIntervalSince1970) WHERE id = \(id)
                    """, logger: logger)
                if rule.accessGroups != record.access.accessGroups {
                    try await Self.replaceGroups(connection, id: id, groups: rule.accessGroups, logger: logger)
                }
            }
            if changed { try await Self.bumpAccessVersion(connection, logger: logger) }
            return found.count
        }
    }

    public func accessSnapshot() async throws -> AccessSnapshot {
        let logger = logger
        return try await connection("reading the access snapshot") { connection in
            // One snapshot for the version and the rows (READ COMMITTED would see each
            // statement's own moment).
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let version = try await Self.accessVersion(connection, logger: logger)
                let records = try await Self.fetchRecords(connection, "SELECT * FROM dataset ORDER BY id", logger: logger)
                try await connection.query("COMMIT", logger: logger)
                return AccessSnapshot(version: version, entries: records.map {
                    AccessEntry(uid: $0.uid, root: $0.root, location: $0.location, rule: $0.access, status: $0.status)
                })
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}
