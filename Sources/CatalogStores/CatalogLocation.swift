import Catalog
import CatalogPostgres
import CatalogSQLite
import Foundation

/// Where a catalogue lives, as the CLI (`--catalog`, `TESSERA_CATALOG`) and the gateway's
/// YAML (`catalog.store`) spell it:
/// - `sqlite:PATH` (a file; relative paths are taken from the working directory);
/// - `postgres://USER@HOST[:PORT]/DATABASE` (password from `TESSERA_CATALOG_PASSWORD`; no TLS:
///   a facility's LAN — Docs/catalog.md).
public enum CatalogLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(PostgresCatalog.Settings)

    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty, !path.contains("\0") else { throw CatalogError.badLocation("\(text): no file path after sqlite:") }
            self = .sqlite(path: path)
            return
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
                throw CatalogError.badLocation("\(text): expected postgres://USER@HOST[:PORT]/DATABASE")
            }
            let database = String(url.path.drop(while: { $0 == "/" }))
            guard !database.isEmpty, !database.contains("/") else {
                throw CatalogError.badLocation("\(text): name the database after the host (postgres://USER@HOST/DATABASE)")
            }
            guard url.password == nil else {
                throw CatalogError.badLocation("\(text): do not put the password in the URL; set TESSERA_CATALOG_PASSWORD")
            }
            let port = url.port ?? 5432
            guard (1...65535).contains(port) else { throw CatalogError.badLocation("\(text): port \(port) is out of range") }
            self = .postgres(.init(host: host, port: port, user: url.user ?? "tessera",
                                   password: environment["TESSERA_CATALOG_PASSWORD"], database: database))
            return
        }
        throw CatalogError.badLocation("\(text): expected sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE")
    }

    /// Opens the store and brings its schema up to date.
    public func open() async throws -> any CatalogStore {
        let store: any CatalogStore
        switch self {
        case let .sqlite(path): store = try SQLiteCatalog(path: path)
        case let .postgres(settings): store = PostgresCatalog(settings)
        }
        do {
            try await store.migrate()
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }
}
