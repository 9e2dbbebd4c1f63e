import Catalog
import PostgresNIO

extension PostgresCatalog: CatalogStatusSource {
    public func status(failures limit: Int) async throws -> CatalogStatus {
        let logger = logger
        let limit = Int64(max(0, limit))
        var summary = try await connection("reading the catalog status") { connection in
            var datasets = [CatalogStatus.DatasetCount]()
            for try await (root, owner, status, n, bytes) in try await connection.query("""
                SELECT root, owner_group, status, count(*), coalesce(sum(stored_bytes), 0)::bigint FROM dataset
                GROUP BY root, owner_group, status ORDER BY root COLLATE "C", owner_group COLLATE "C", status COLLATE "C"
                """, logger: logger).decode((String?, String?, String, Int64, Int64).self) {
                datasets.append(CatalogStatus.DatasetCount(root: root, ownerGroup: owner, status: status, datasets: n, storedBytes: bytes))
            }
            var ingest = [String: Int64]()
            for try await (status, n) in try await connection.query("SELECT status, count(*) FROM ingest_file GROUP BY status",
                                                                    logger: logger).decode((String, Int64).self) {
                ingest[status] = n
            }
            var failures = [CatalogStatus.IngestFailure]()
            for try await (path, error, time) in try await connection.query("""
                SELECT path, coalesce(error, ''), updated FROM ingest_file WHERE status = 'failed'
                ORDER BY updated DESC, path COLLATE "C" LIMIT \(limit)
                """, logger: logger).decode((String, String, Double).self) {
                failures.append(CatalogStatus.IngestFailure(path: path, error: error, time: time))
            }
            return CatalogStatus(datasets: datasets, ingest: ingest, recentFailures: failures)
        }
        summary.uploads = try await uploadUsages()
        return summary
    }

    public func readyTotals(under location: String) async throws -> CatalogStatus.Totals {
        let logger = logger
        let folder = location.hasSuffix("/") ? location : location + "/"
        let length = Int64(folder.unicodeScalars.count)
        return try await connection("reading the catalog status") { connection in
            // substr/length count characters in both dialects: a prefix test without LIKE's wildcards.
            for try await (n, bytes) in try await connection.query("""
                SELECT count(*), coalesce(sum(stored_bytes), 0)::bigint FROM dataset
                WHERE status = 'ready' AND (location = \(location) OR substr(location, 1, \(length)::int) = \(folder))
                """, logger: logger).decode((Int64, Int64).self) {
                return CatalogStatus.Totals(datasets: n, storedBytes: bytes)
            }
            return CatalogStatus.Totals(datasets: 0, storedBytes: 0)
        }
    }
}
