import Catalog
import Foundation
import GRDB

/// Grants, revokes and the access snapshot the gateway's object routes use.
extension SQLiteCatalog {
    public func changeAccess(_ selector: DatasetSelector, _ change: AccessChange) async throws -> Int {
        let (column, value) = Self.column(selector)
        return try await write("changing access of \(value)") { db in
            let found = try Self.fetchRecords(db, sql: "SELECT * FROM dataset WHERE \(column) = ?", arguments: [value])
            var changed = false
            for record in found {
                guard let id = record.id else { continue }
                let rule = record.access.applying(change)
                guard rule != record.access else { continue }
                changed = true
                try db.execute(sql: "UPDATE dataset SET owner_group = ?, is_public = ?, updated = ? WHERE id = ?",
                               arguments: [rule.ownerGroup, rule.isPublic, Date().timeIntervalSince1970, id])
                if rule.accessGroups != record.access.accessGroups {
                    try Self.replaceGroups(db, id: id, groups: rule.accessGroups)
                }
            }
            if changed { try Self.bumpAccessVersion(db) }
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
