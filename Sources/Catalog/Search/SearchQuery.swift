/// A validated search, as both stores' SQL builders take it. Made only by
/// `SearchQueryParser` from request parameters (or by the CLI's `--where`): no user string in
/// it ever reaches SQL text, every value is bound.
public struct SearchQuery: Sendable, Equatable {
    /// Every condition must hold (elements are AND'd; each one ORs its alternate keys).
    public var conditions: [SearchCondition]
    /// Free-text tokens (`FreeText.tokens` of `q`), each a prefix term, all required.
    public var textTokens: [String]
    public var sort: SearchSort
    public var limit: Int
    /// Where the previous page ended.
    public var after: SearchCursor?

    public init(conditions: [SearchCondition] = [], textTokens: [String] = [], sort: SearchSort = .id,
                limit: Int = 50, after: SearchCursor? = nil) {
        self.conditions = conditions; self.textTokens = textTokens; self.sort = sort; self.limit = limit; self.after = after
    }
}

public enum SearchSort: String, Sendable, Equatable, CaseIterable {
    /// Insertion order (stable under inserts: new datasets come last).
    case id
    case name
    /// Observation time, unknown last.
    case observed
}

/// Where a page ended: the last row's sort value and id, and a hash of the query it belongs to
/// (a cursor from another query is refused).
public struct SearchCursor: Sendable, Equatable {
    public var sortValue: SortValue
    public var id: Int64
    public var queryHash: UInt64

    public enum SortValue: Sendable, Equatable {
        case none, text(String), number(Double)
    }

    public init(sortValue: SortValue, id: Int64, queryHash: UInt64) {
        self.sortValue = sortValue; self.id = id; self.queryHash = queryHash
    }
}

/// One element's condition, keys already resolved from the configuration.
public enum SearchCondition: Sendable, Equatable {
    /// A string value of one of `keys` containing, starting with or equal to `value`.
    case text(keys: [String], match: TextMatch, value: String)
    /// A number in `min...max` (either may be open).
    case range(keys: [String], min: Double?, max: Double?)
    /// A date in `from...to` (unix seconds, UTC). Keys marked `as: mjd`/`jd`/`unix` compare
    /// numbers, bounds converted in Swift so the index is used.
    case dateRange(keys: [DateKey], from: Double?, to: Double?)
    /// A string value equal to one of `values`.
    case select(keys: [String], values: [String])
    /// An (RA, Dec) pair of the same scope within `radius` degrees (great circle).
    case cone(raKeys: [String], decKeys: [String], ra: Double, dec: Double, radius: Double)
    /// A dataset column (format, name…) equal to one of `values`.
    case column(DatasetColumn, values: [String])
}

public enum TextMatch: String, Sendable, Equatable, CaseIterable, Codable {
    case contains, prefix, exact
}

/// A date key and how its value is written: a date string, or a number in some time scale.
public struct DateKey: Sendable, Equatable, Hashable {
    public enum Scale: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
        /// A date row (string in the strict date grammar).
        case date
        /// Modified Julian Date (days): unix = (mjd − 40587) × 86400.
        case mjd
        /// Julian Date (days).
        case jd
        /// Seconds since 1970.
        case unix
    }
    public var key: String
    public var scale: Scale
    public init(key: String, scale: Scale = .date) { self.key = key; self.scale = scale }
}

/// Dataset columns a select element may name instead of harvested keys.
public enum DatasetColumn: String, Sendable, Equatable, CaseIterable, Codable {
    case format, name, root, dtype = "dtype", ownerGroup = "owner_group", uploader
}

/// One page of results.
public struct SearchPage: Sendable, Equatable {
    public var datasets: [DatasetRecord]
    /// The cursor of the next page, `nil` on the last.
    public var next: SearchCursor?
    public init(datasets: [DatasetRecord], next: SearchCursor?) { self.datasets = datasets; self.next = next }
}
