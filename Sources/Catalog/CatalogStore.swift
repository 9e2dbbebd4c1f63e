import ZarrCore

/// The catalogue's storage: SQLite (`CatalogSQLite`, embedded, the default) or PostgreSQL
/// (`CatalogPostgres`, for several gateways or ingest hosts). Both pass the same tests
/// (`Tests/CatalogTests`, run against each). Every method is async and runs on the store's own
/// threads, never blocking the gateway's event loops.
public protocol CatalogStore: Sendable {
    /// Creates or upgrades the schema; idempotent, safe when several processes start at once.
    func migrate() async throws

    /// Inserts the dataset, or updates the one at the same `location` (keeping its `uid`,
    /// `id` and `created`). With a harvest, its rows, document and text replace the old ones
    /// in the same transaction. Returns the stored record (with `id` and `uid`).
    @discardableResult
    func record(_ dataset: DatasetRecord, harvest: Harvest?) async throws -> DatasetRecord

    /// Records the items in one transaction (a failure leaves none of them written), each as
    /// `record(_:harvest:)` would, except that a location already recorded exactly so is left
    /// as it is (`RecordOutcome.unchanged`). Returns each item's outcome, in order.
    func recordBatch(_ items: [RecordItem]) async throws -> [RecordOutcome]

    /// The dataset with this public id, if the viewer may see it (a hidden one is `nil`,
    /// exactly like a missing one).
    func dataset(uid: String, visibleTo viewer: Viewer) async throws -> DatasetRecord?

    /// The dataset at this location, whatever its access (for the converter and the CLI).
    func dataset(location: String) async throws -> DatasetRecord?

    /// The harvested metadata document, if the viewer may see the dataset.
    func metadataDocument(uid: String, visibleTo viewer: Viewer) async throws -> JSONValue?

    /// One page of ready datasets matching the query that the viewer may see.
    func search(_ query: SearchQuery, visibleTo viewer: Viewer) async throws -> SearchPage

    /// Distinct string values of these keys (or this column) among datasets the viewer may see,
    /// for a select element's choices. At most `limit`, sorted.
    func distinctValues(keys: [String], column: DatasetColumn?, visibleTo viewer: Viewer, limit: Int) async throws -> [String]

    /// Applies an access change to the selected datasets; returns how many the selector found
    /// (0: no such dataset). The access version moves only when a rule really changed.
    func changeAccess(_ selector: DatasetSelector, _ change: AccessChange) async throws -> Int

    /// Every dataset's access, for the gateway's object routes.
    func accessSnapshot() async throws -> AccessSnapshot

    /// The current access version (cheap; the gateway polls it).
    func accessVersion() async throws -> Int64

    /// Closes connections; the store is unusable afterwards.
    func close() async throws
}

/// Errors of the catalogue, with a message that names what failed (never SQL text).
public enum CatalogError: Error, Equatable, CustomStringConvertible {
    case badLocation(String)
    case unreachable(String)
    case schema(String)
    case storeFailed(String)
    case notImplemented(String)

    public var description: String {
        switch self {
        case let .badLocation(m): "catalog location: \(m)"
        case let .unreachable(m): "catalog unreachable: \(m)"
        case let .schema(m): "catalog schema: \(m)"
        case let .storeFailed(m): "catalog: \(m)"
        case let .notImplemented(m): "catalog: \(m) is not implemented yet"
        }
    }
}
