import Catalog
import Foundation
import GRDB
import ZarrCore

/// The embedded catalogue: one SQLite file (WAL) next to the data, through GRDB's pool, whose
/// async reads and writes run on GRDB's own queues (never on the gateway's event loops).
/// Several processes on one host may share the file (writes are IMMEDIATE transactions that
/// wait up to 5 s for each other); not on a network file system (WAL needs shared memory):
/// use PostgreSQL there (Docs/catalog.md).
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
            throw CatalogError.unreachable("cannot open SQLite catalog \(path): \(Self.message(error))")
        }
    }

    public func migrate() async throws {
        var migrator = DatabaseMigrator()
        for migration in CatalogMigrations.all(.sqlite) {
            migrator.registerMigration(migration.id) { db in
                for statement in migration.statements { try db.execute(sql: statement) }
            }
        }
        // GRDB reads the applied list before it takes the write lock, so two processes
        // migrating a new file at once can both try migration 1; the loser fails on an
        // existing table. Trying once more then finds it applied.
        do {
            try migrator.migrate(pool)
        } catch {
            do {
                try migrator.migrate(pool)
            } catch {
                throw CatalogError.schema("cannot migrate SQLite catalog \(path): \(Self.message(error))")
            }
        }
    }

    public func dataset(uid: String, visibleTo viewer: Viewer) async throws -> DatasetRecord? {
        let found = try await read("reading dataset \(uid)") { db in
            try Self.fetchRecords(db, sql: "SELECT * FROM dataset WHERE uid = ?", arguments: [uid]).first
        }
        guard let found, found.access.allows(viewer) else { return nil }
        return found
    }

    public func dataset(location: String) async throws -> DatasetRecord? {
        try await read("reading dataset at \(location)") { db in
            try Self.fetchRecords(db, sql: "SELECT * FROM dataset WHERE location = ?",
                                  arguments: [StoredForm.text(location)]).first
        }
    }

    public func metadataDocument(uid: String, visibleTo viewer: Viewer) async throws -> JSONValue? {
        let found: (DatasetRecord, String?)? = try await read("reading metadata of \(uid)") { db in
            guard let record = try Self.fetchRecords(db, sql: "SELECT * FROM dataset WHERE uid = ?", arguments: [uid]).first,
                  let id = record.id else { return nil }
            let json = try String.fetchOne(db, sql: "SELECT json FROM dataset_doc WHERE dataset_id = ?", arguments: [id])
            return (record, json)
        }
        guard let (record, json) = found, record.access.allows(viewer) else { return nil }
        // A dataset recorded without a harvest has an empty document.
        guard let json else { return .object([:]) }
        return try StoredForm.document(json)
    }

    public func accessVersion() async throws -> Int64 {
        try await read("reading the access version") { db in try Self.accessVersion(db) }
    }

    public func close() async throws {
        do { try pool.close() } catch { throw CatalogError.storeFailed("closing \(path): \(Self.message(error))") }
    }

    static func accessVersion(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM catalog_state WHERE key = 'access_version'") ?? 0
    }

    static func bumpAccessVersion(_ db: Database) throws {
        try db.execute(sql: "UPDATE catalog_state SET value = value + 1 WHERE key = 'access_version'")
    }

    // MARK: running and errors

    /// A read on GRDB's reader queues; a database error becomes a `CatalogError` naming `what`
    /// (SQLite's message only, never the SQL text).
    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw Self.failure(what, error) }
    }

    /// A write in one IMMEDIATE transaction (GRDB's default for a pool's writes).
    func write<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw Self.failure(what, error) }
    }

    static func failure(_ what: String, _ error: Error) -> Error {
        if error is CatalogError { return error }
        return CatalogError.storeFailed("\(what): \(message(error))")
    }

    static func message(_ error: Error) -> String {
        if let e = error as? DatabaseError { return "SQLite error \(e.resultCode.rawValue): \(e.message ?? "unknown")" }
        return String(describing: error)
    }
}
