import Catalog
import PostgresNIO

/// Search on the PostgreSQL store: the SQL comes from `SQLBuilder` (dialect `.postgres`), every
/// value bound.
extension PostgresCatalog {
    public func search(_ query: SearchQuery, visibleTo viewer: Viewer) async throws -> SearchPage {
        throw CatalogError.notImplemented("PostgreSQL search")
    }

    public func distinctValues(keys: [String], column: DatasetColumn?, visibleTo viewer: Viewer, limit: Int) async throws -> [String] {
        throw CatalogError.notImplemented("PostgreSQL distinct values")
    }
}
