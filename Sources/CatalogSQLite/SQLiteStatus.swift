import Catalog
import GRDB

extension SQLiteCatalog: CatalogStatusSource {
    public func status(failures limit: Int) async throws -> CatalogStatus {
        var summary = try await read("reading the catalog status") { db in
            let datasets = try Row.fetchAll(db, sql: """
                SELECT root, owner_group, status, count(*) AS n, coalesce(sum(stored_bytes), 0) AS bytes FROM dataset
                GROUP BY root, owner_group, status ORDER BY root, owner_group, status
                """).map { r in
                CatalogStatus.DatasetCount(root: r["root"], ownerGroup: r["owner_group"], status: r["status"], datasets: r["n"],
                                           storedBytes: r["bytes"])
            }
            var ingest = [String: Int64]()
            for r in try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM ingest_file GROUP BY status") {
                ingest[r["status"]] = r["n"]
            }
            let failures = try Row.fetchAll(db, sql: """
                SELECT path, coalesce(error, '') AS error, updated FROM ingest_file WHERE status = 'failed'
                ORDER BY updated DESC, path LIMIT ?
                """, arguments: [max(0, limit)]).map { r in
                CatalogStatus.IngestFailure(path: r["path"], error: r["error"], time: r["updated"])
            }
            return CatalogStatus(datasets: datasets, ingest: ingest, recentFailures: failures)
        }
        summary.uploads = try await uploadUsages()
        return summary
    }

    public func readyTotals(under location: String) async throws -> CatalogStatus.Totals {
        let folder = location.hasSuffix("/") ? location : location + "/"
        return try await read("reading the catalog status") { db in
            // substr/length count characters in both dialects: a prefix test without LIKE's wildcards.
            let row = try Row.fetchOne(db, sql: """
                SELECT count(*) AS n, coalesce(sum(stored_bytes), 0) AS bytes FROM dataset
                WHERE status = 'ready' AND (location = ? OR substr(location, 1, ?) = ?)
                """, arguments: [location, folder.unicodeScalars.count, folder])
            return CatalogStatus.Totals(datasets: row?["n"] ?? 0, storedBytes: row?["bytes"] ?? 0)
        }
    }
}
