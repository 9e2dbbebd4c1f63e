/// The catalogue's numbers for `tessera status` (Docs/catalog.md, "Status"): datasets and
/// stored bytes per root, owner group and status; watch-ingest files per state; the most
/// recent failed ingests with their errors.
public struct CatalogStatus: Sendable, Equatable, Codable {
    public struct DatasetCount: Sendable, Equatable, Codable {
        public var root: String?
        public var ownerGroup: String?
        public var status: String
        public var datasets: Int64
        public var storedBytes: Int64
        public init(root: String?, ownerGroup: String?, status: String, datasets: Int64, storedBytes: Int64) {
            self.root = root; self.ownerGroup = ownerGroup; self.status = status; self.datasets = datasets; self.storedBytes = storedBytes
        }
    }

    public struct IngestFailure: Sendable, Equatable, Codable {
        public var path: String
        public var error: String
        /// Unix seconds.
        public var time: Double
        public init(path: String, error: String, time: Double) {
            self.path = path; self.error = error; self.time = time
        }
    }

    /// Ready datasets and their stored bytes under one location (`readyTotals(under:)`).
    public struct Totals: Sendable, Equatable, Codable {
        public var datasets: Int64
        public var storedBytes: Int64
        public init(datasets: Int64, storedBytes: Int64) { self.datasets = datasets; self.storedBytes = storedBytes }
    }

    public var datasets: [DatasetCount]
    /// `ingest_file` rows per status (`converting`, `done`, `failed`).
    public var ingest: [String: Int64]
    /// Newest first.
    public var recentFailures: [IngestFailure]
    /// Per-user upload usage (Docs/catalog.md, "Uploads"), sorted by user.
    public var uploads: [UploadUsage]

    public init(datasets: [DatasetCount], ingest: [String: Int64], recentFailures: [IngestFailure], uploads: [UploadUsage] = []) {
        self.datasets = datasets; self.ingest = ingest; self.recentFailures = recentFailures; self.uploads = uploads
    }
}

/// A store that can report `CatalogStatus` (both stores do).
public protocol CatalogStatusSource: Sendable {
    func status(failures limit: Int) async throws -> CatalogStatus
    /// The `ready` datasets whose location is `location` or lies below it (a served root's
    /// numbers: the writers rarely know the root's name, so the location decides).
    func readyTotals(under location: String) async throws -> CatalogStatus.Totals
}
