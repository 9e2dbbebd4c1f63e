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
            for write in change.writes(for: found, updated: Date().timeIntervalSince1970) {
                switch write {
                case let .rule(id, ownerGroup, isPublic, updated):
                    try await connection.query("""
                        UPDATE dataset SET owner_group = \(ownerGroup), is_public = \(isPublic), updated = \(updated) WHERE id = \(id)
                        """, logger: logger)
                case let .groups(id, groups): try await Self.replaceGroups(connection, id: id, groups: groups, logger: logger)
                case .bumpAccessVersion: try await Self.bumpAccessVersion(connection, logger: logger)
                }
            }
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
