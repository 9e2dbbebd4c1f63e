import Catalog
import GRDB

/// Search on the SQLite store: the SQL comes from `SQLBuilder` (dialect `.sqlite`), every
/// value bound.
extension SQLiteCatalog {
    public func search(_ query: SearchQuery, visibleTo viewer: Viewer) async throws -> SearchPage {
        throw CatalogError.notImplemented("SQLite search")
    }

    public func distinctValues(keys: [String], column: DatasetColumn?, visibleTo viewer: Viewer, limit: Int) async throws -> [String] {
        throw CatalogError.notImplemented("SQLite distinct values")
    }
}
