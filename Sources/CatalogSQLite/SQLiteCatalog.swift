import Catalog
import Foundation
import GRDB
import ZarrCore

/// The embedded catalogue: one SQLite file (WAL) next to the data, through GRDB's pool, whose
/// async reads and writes run on GRDB's own queues (never on the gateway's event loops).
/// Several processes on one host may share the file; not on a network file system (WAL needs
/// shared memory): use PostgreSQL there (Docs/catalog.md).
public final class SQLiteCatalog: CatalogStore {
    let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw CatalogError.unreachable("cannot open SQLite catalog \(path): \(error)")
        }
    }

    public func migrate() async throws {
        var migrator = DatabaseMigrator()
        for migration in CatalogMigrations.all(.sqlite) {
            migrator.registerMigration(migration.id) { db in
                for statement in migration.statements { try db.execute(sql: statement) }
            }
        }
        // Start-up only: the migrator takes the pool itself (it serialises with other processes).
        try migrator.migrate(pool)
    }

    public func record(_ dataset: DatasetRecord, harvest: Harvest?) async throws -> DatasetRecord {
        throw CatalogError.notImplemented("SQLite record")
    }

    public func dataset(uid: String, visibleTo viewer: Viewer) async throws -> DatasetRecord? {
        throw CatalogError.notImplemented("SQLite dataset")
    }

    public func dataset(location: String) async throws -> DatasetRecord? {
        throw CatalogError.notImplemented("SQLite dataset")
    }

    public func metadataDocument(uid: String, visibleTo viewer: Viewer) async throws -> JSONValue? {
        throw CatalogError.notImplemented("SQLite metadata document")
    }

    public func changeAccess(_ selector: DatasetSelector, _ change: AccessChange) async throws -> Int {
        throw CatalogError.notImplemented("SQLite access change")
    }

    public func accessSnapshot() async throws -> AccessSnapshot {
        throw CatalogError.notImplemented("SQLite access snapshot")
    }

    public func accessVersion() async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT value FROM catalog_state WHERE key = 'access_version'") ?? 0
        }
    }

    public func close() async throws {
        try pool.close()
    }
}
