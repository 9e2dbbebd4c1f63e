import ZarrCore

/// The `catalog:` section of the gateway's YAML: where the catalogue lives, who sees
/// everything, how often access changes are picked up, and the search elements offered at
/// `/api/datasets` (Docs/catalog.md, "API and access").
public struct CatalogConfiguration: Codable, Sendable, Equatable {
    /// `sqlite:PATH` or `postgres://USER@HOST[:PORT]/DB` (`CatalogLocation`); the CLI opens it.
    public var store: String?
    /// Members of this group see every dataset (default `globalaccess`).
    public var globalAccessGroup: String?
    /// Seconds between polls of the catalogue's access version (default 1).
    public var refreshSeconds: Double?
    /// The search elements as written; decoded into `SearchConfiguration` (and validated,
    /// naming the entry) when the gateway starts (`SearchParameters`).
    public var search: JSONValue?

    public init(store: String? = nil, globalAccessGroup: String? = nil, refreshSeconds: Double? = nil, search: JSONValue? = nil) {
        self.store = store; self.globalAccessGroup = globalAccessGroup; self.refreshSeconds = refreshSeconds; self.search = search
    }

    public static let defaultGlobalAccessGroup = "globalaccess"
    public static let defaultRefreshSeconds = 1.0

    var resolvedGlobalAccessGroup: String { globalAccessGroup ?? Self.defaultGlobalAccessGroup }
    var refreshInterval: Duration { .milliseconds(Int((refreshSeconds ?? Self.defaultRefreshSeconds) * 1000)) }

    /// Refuses settings a gateway could not run with, naming the entry.
    func validate() throws {
        if let store, store.isEmpty { throw ConfigurationError("catalog.store is empty") }
        if let group = globalAccessGroup, group.isEmpty || group.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw ConfigurationError("catalog.globalAccessGroup '\(group.debugDescription)' is not a usable group name")
        }
        if let refreshSeconds, !(0.1...3600).contains(refreshSeconds) {
            throw ConfigurationError("catalog.refreshSeconds \(refreshSeconds) is outside 0.1...3600")
        }
        if let search, case .object = search {} else if search != nil && search != .null {
            throw ConfigurationError("catalog.search must be a mapping (defaultPageSize, maxPageSize, elements)")
        }
        _ = try SearchParameters(configuration: search)
    }
}
