import Catalog
import Logging
import PostgresNIO
import ZarrCore

/// The shared catalogue for several gateways or ingest hosts: a PostgreSQL database through
/// postgres-nio's connection pool. The pool works only while `run()` runs, so the store owns
/// a task running it from `open` to `close`. Every value is a bound parameter; SQL text is
/// only ever made of this file's constants.
public final class PostgresCatalog: CatalogStore {
    let client: PostgresClient
    let runTask: Task<Void, Never>
    let logger: Logger
    let settings: Settings

    public struct Settings: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        public init(host: String, port: Int, user: String, password: String?, database: String) {
            self.host = host; self.port = port; self.user = user; self.password = password; self.database = database
        }

        /// `host:port/database`, for messages (never the password).
        public var place: String { "\(host):\(port)/\(database)" }
    }

    /// How long opening the catalogue may wait for a TCP connection before it says the server
    /// is unreachable (NIO's connect timeout, kept on the event loop).
    static let connectSeconds: Int64 = 5
    /// How long a server that took the connection may take to answer the login before the
    /// catalogue gives up on it. Generous: this guard runs as a task of the cooperative pool,
    /// which a busy process (2 cores, blocking work beside it) may not schedule for tens of
    /// seconds; the connect timeout above is what answers an unreachable host quickly.
    static let answerSeconds: Int64 = 120

    public init(_ settings: Settings) {
        self.settings = settings
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.user,
            password: settings.password, database: settings.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(Self.connectSeconds)
        var logger = Logger(label: "tessera.catalog.postgres")
        logger.logLevel = .warning
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runTask = Task { await client.run() }
    }

    /// Checks the server answers (one bounded connection: the pool would retry a dead server
    /// quietly for a long time), then applies the missing migrations in one transaction under
    /// an advisory lock, so two processes starting together migrate once.
    public func migrate() async throws {
        try await probe()
        try await transaction("migrating the catalog schema") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS tessera_migrations(id TEXT PRIMARY KEY, applied DOUBLE PRECISION NOT NULL)",
                logger: self.logger)
            var applied = Set<String>()
            for try await id in try await connection.query("SELECT id FROM tessera_migrations", logger: self.logger).decode(String.self) {
                applied.insert(id)
            }
            for migration in CatalogMigrations.all(.postgres) where !applied.contains(migration.id) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO tessera_migrations(id, applied) VALUES (\(migration.id), extract(epoch FROM now()))",
                    logger: self.logger)
            }
        }
    }

    /// The advisory lock key of migrations (any constant; the same in every Tessera).
    static let migrationLock: Int64 = 7319

    func probe() async throws {
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user,
            password: settings.password, database: settings.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(Self.connectSeconds)
        let connectConfiguration = configuration
        let place = settings.place
        let logger = logger
        let seconds = Self.answerSeconds
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let connection = try await PostgresConnection.connect(configuration: connectConfiguration, id: 1, logger: logger)
                    try await connection.close()
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds + 1))
                    throw CatalogError.unreachable("PostgreSQL at \(place) did not answer within \(seconds) s")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError.unreachable("cannot connect to PostgreSQL at \(place): \(Self.message(error))")
        }
    }

    public func dataset(uid: String, visibleTo viewer: Viewer) async throws -> DatasetRecord? {
        let found = try await connection("reading dataset \(uid)") { connection in
            try await Self.fetchRecords(connection, "SELECT * FROM dataset WHERE uid = \(StoredForm.text(uid))", logger: self.logger).first
        }
        guard let found, found.access.allows(viewer) else { return nil }
        return found
    }

    public func dataset(location: String) async throws -> DatasetRecord? {
        try await connection("reading dataset at \(location)") { connection in
            try await Self.fetchRecords(connection, "SELECT * FROM dataset WHERE location = \(StoredForm.text(location))",
                                        logger: self.logger).first
        }
    }

    public func metadataDocument(uid: String, visibleTo viewer: Viewer) async throws -> JSONValue? {
        let found: (DatasetRecord, String?)? = try await connection("reading metadata of \(uid)") { connection in
            guard let record = try await Self.fetchRecords(connection, "SELECT * FROM dataset WHERE uid = \(StoredForm.text(uid))",
                                                           logger: self.logger).first,
                  let id = record.id else { return nil }
            var json: String?
            for try await text in try await connection.query("SELECT json FROM dataset_doc WHERE dataset_id = \(id)",
                                                             logger: self.logger).decode(String.self) {
                json = text
            }
            return (record, json)
        }
        guard let (record, json) = found, record.access.allows(viewer) else { return nil }
        guard let json else { return .object([:]) }
        return try StoredForm.document(json)
    }

    public func accessVersion() async throws -> Int64 {
        try await connection("reading the access version") { connection in try await Self.accessVersion(connection, logger: self.logger) }
    }

    public func close() async throws {
        runTask.cancel()
        await runTask.value
    }

    static func accessVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var version: Int64 = 0
        for try await value in try await connection.query("SELECT value FROM catalog_state WHERE key = 'access_version'",
                                                          logger: logger).decode(Int64.self) {
            version = value
        }
        return version
    }

    static func bumpAccessVersion(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("UPDATE catalog_state SET value = value + 1 WHERE key = 'access_version'", logger: logger)
    }

    // MARK: running and errors

    /// Runs `body` on a pooled connection; errors become `CatalogError`s naming `what` and
    /// the server's message (never the SQL text).
    func connection<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw failure(what, error)
        }
    }

    /// Runs `body` in one transaction (BEGIN … COMMIT, ROLLBACK when it throws).
    func transaction<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch {
            throw failure(what, error)
        }
    }

    func failure(_ what: String, _ error: Error) -> Error {
        if let error = error as? CatalogError { return error }
        if let error = error as? PostgresTransactionError {
            if let closure = error.closureError { return failure(what, closure) }
            if let begin = error.beginError { return failure(what, begin) }
            if let commit = error.commitError { return failure(what, commit) }
        }
        if let error = error as? PSQLError, error.serverInfo == nil {
            return CatalogError.unreachable("PostgreSQL at \(settings.place): \(what): \(Self.message(error))")
        }
        return CatalogError.storeFailed("\(what): \(Self.message(error))")
    }

    static func message(_ error: Error) -> String {
        if let error = error as? PSQLError {
            if let info = error.serverInfo {
                return [info[.sqlState].map { "SQLSTATE \($0)" }, info[.message]].compactMap { $0 }.joined(separator: ": ")
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return String(describing: error)
    }
}
