import Foundation

/// The facility's numbers, one document for `tessera status`, `GET /api/status` and the
/// gateway's `/metrics` gauges (Docs/catalog.md, "Status"): per served root its ready
/// datasets, their stored bytes and (local roots) the file system's use; per owner group its
/// ready datasets and bytes; the catalogue's datasets per root column, owner group and status;
/// watch-ingest files per ledger state; the most recent failed ingests with their errors.
public struct StatusReport: Sendable, Equatable, Codable {
    public struct Root: Sendable, Equatable, Codable {
        public var name: String
        public var location: String
        public var datasets: Int64
        public var storedBytes: Int64
        /// Local roots only (S3 roots: the catalogue's bytes only); nil when not examinable.
        public var disk: DiskUsage?
    }

    public struct Group: Sendable, Equatable, Codable {
        /// nil: datasets recorded without an owner group.
        public var group: String?
        public var datasets: Int64
        public var storedBytes: Int64
    }

    public var roots: [Root]
    public var groups: [Group]
    public var datasets: [CatalogStatus.DatasetCount]
    /// `ingest_file` rows per state (`converting`: claimed by a watcher; `done`; `failed`);
    /// a state no row has is left out.
    public var ingest: [String: Int64]
    /// Newest first.
    public var recentFailures: [CatalogStatus.IngestFailure]
    /// Per-user upload usage, sorted by user; each row's quota when the gateway's upload
    /// configuration is known.
    public var uploads: [UploadUsage]

    /// The ledger's states (the text form and the gauges show each, zero when absent).
    public static let ingestStates = ["converting", "done", "failed"]

    /// Reads the catalogue once, then each root's totals; `disk` is asked for local roots.
    public static func gather(_ source: any CatalogStatusSource, roots: [(name: String, location: String)], failures: Int,
                              quota: ((String) -> Int64)? = nil,
                              disk: (String) -> DiskUsage? = DiskUsage.of(path:)) async throws -> StatusReport {
        let status = try await source.status(failures: failures)
        var uploads = status.uploads
        if let quota { for i in uploads.indices { uploads[i].quotaBytes = quota(uploads[i].uploader) } }
        var rootRows = [Root]()
        for root in roots.sorted(by: { $0.name < $1.name }) {
            let location = normalisedLocation(root.location)
            let totals = try await source.readyTotals(under: location)
            rootRows.append(Root(name: root.name, location: location, datasets: totals.datasets, storedBytes: totals.storedBytes,
                                 disk: location.contains("://") ? nil : disk(location)))
        }
        var byGroup = [String?: CatalogStatus.Totals]()
        for row in status.datasets where row.status == "ready" {
            var totals = byGroup[row.ownerGroup] ?? .init(datasets: 0, storedBytes: 0)
            totals.datasets += row.datasets
            totals.storedBytes = totals.storedBytes.addingReportingOverflow(row.storedBytes).overflow
                ? Int64.max : totals.storedBytes + row.storedBytes
            byGroup[row.ownerGroup] = totals
        }
        let groups = byGroup.map { Group(group: $0.key, datasets: $0.value.datasets, storedBytes: $0.value.storedBytes) }
            .sorted { ($0.group ?? "") < ($1.group ?? "") }
        return StatusReport(roots: rootRows, groups: groups, datasets: status.datasets, ingest: status.ingest,
                            recentFailures: status.recentFailures, uploads: uploads)
    }

    /// A root's location the way the writers record dataset locations (absolute, normalised,
    /// no trailing slash; `s3://…` as given), so the prefix test matches.
    public static func normalisedLocation(_ location: String) -> String {
        if location.contains("://") {
            var s = location
            while s.hasSuffix("/"), !s.hasSuffix("://") { s.removeLast() }
            return s
        }
        var path = URL(fileURLWithPath: location).standardizedFileURL.path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// The JSON every surface prints (keys sorted, slashes unescaped).
    public func json(pretty: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
