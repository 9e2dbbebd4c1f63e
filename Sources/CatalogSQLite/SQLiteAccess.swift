import Catalog
import Foundation
import GRDB

/// Grants, revokes and the access snapshot the gateway's object routes use.
extension SQLiteCatalog {
    public func changeAccess(_ selector: DatasetSelector, _ change: AccessChange) async throws -> Int {
        let (column, value) = Self.column(selector)
        return try await write("changing access of \(value)") { db in
            let found = try Self.fetchRecords(db, sql: "SELECT * FROM dataset WHERE \(column) = ?", arguments: [value])
            for write in change.writes(for: found, updated: Date().timeIntervalSince1970) {
                switch write {
                case let .rule(id, ownerGroup, isPublic, updated):
                    try db.execute(sql: "UPDATE dataset SET owner_group = ?, is_public = ?, updated = ? WHERE id = ?",
                                   arguments: [ownerGroup, isPublic, updated, id])
                case let .groups(id, groups): try Self.replaceGroups(db, id: id, groups: groups)
                case .bumpAccessVersion: try Self.bumpAccessVersion(db)
                }
            }
            return found.count
        }
    }

    public func accessSnapshot() async throws -> AccessSnapshot {
        try await read("reading the access snapshot") { db in
            // One read transaction: the version and the rows are of the same moment.
            let version = try Self.accessVersion(db)
            let records = try Self.fetchRecords(db, sql: "SELECT * FROM dataset ORDER BY id")
            return AccessSnapshot(version: version, entries: records.map {
                AccessEntry(uid: $0.uid, root: $0.root, location: $0.location, rule: $0.access, status: $0.status)
            })
        }
    }

    static func column(_ selector: DatasetSelector) -> (String, String) {
        switch selector {
        case let .uid(uid): ("uid", StoredForm.text(uid))
        case let .location(location): ("location", StoredForm.text(location))
        }
    }
}
