import Catalog
import Logging
import PostgresNIO
import ZarrCore

/// The shared catalogue for several gateways or ingest hosts: a PostgreSQL database through
/// postgres-nio's connection pool. The pool works only while `run()` runs, so the store owns
/// a task running it from `open` to `close`.
public final class PostgresCatalog: CatalogStore {
    let client: PostgresClient
    let runTask: Task<Void, Never>
    let logger: Logger

    public struct Settings: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        public init(host: String, port: Int, user: String, password: String?, database: String) {
            self.host = host; self.port = port; self.user = user; self.password = password; self.database = database
        }
    }

    public init(_ settings: Settings) {
        let configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.user,
            password: settings.password, database: settings.database, tls: .disable)
        var logger = Logger(label: "tessera.catalog.postgres")
        logger.logLevel = .warning
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runTask = Task { await client.run() }
    }

    public func migrate() async throws {
        throw CatalogError.notImplemented("PostgreSQL migrations")
    }

    public func record(_ dataset: DatasetRecord, harvest: Harvest?) async throws -> DatasetRecord {
        throw CatalogError.notImplemented("PostgreSQL record")
    }

    public func dataset(uid: String, visibleTo viewer: Viewer) async throws -> DatasetRecord? {
        throw CatalogError.notImplemented("PostgreSQL dataset")
    }

    public func dataset(location: String) async throws -> DatasetRecord? {
        throw CatalogError.notImplemented("PostgreSQL dataset")
    }

    public func metadataDocument(uid: String, visibleTo viewer: Viewer) async throws -> JSONValue? {
        throw CatalogError.notImplemented("PostgreSQL metadata document")
    }

    public func changeAccess(_ selector: DatasetSelector, _ change: AccessChange) async throws -> Int {
        throw CatalogError.notImplemented("PostgreSQL access change")
    }

    public func accessSnapshot() async throws -> AccessSnapshot {
        throw CatalogError.notImplemented("PostgreSQL access snapshot")
    }

    public func accessVersion() async throws -> Int64 {
        throw CatalogError.notImplemented("PostgreSQL access version")
    }

    public func close() async throws {
        runTask.cancel()
        await runTask.value
    }
}
