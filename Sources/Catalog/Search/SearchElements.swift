/// The search elements a gateway offers (the `catalog.search` section of its YAML), as an
/// observatory portal's search builder has them: text, numeric range, date range, select and
/// cone, each mapped to one or more harvested keys OR'd together (DATE, DATE-OBS and MJD-OBS
/// mean the same thing). Docs/catalog.md "Search" has the YAML and the parameter grammar.
public struct SearchConfiguration: Sendable, Equatable, Codable {
    public var elements: [SearchElement]
    public var defaultPageSize: Int
    public var maxPageSize: Int

    public init(elements: [SearchElement] = SearchConfiguration.defaultElements,
                defaultPageSize: Int = 50, maxPageSize: Int = 500) {
        self.elements = elements; self.defaultPageSize = defaultPageSize; self.maxPageSize = maxPageSize
    }

    enum CodingKeys: String, CodingKey { case elements, defaultPageSize, maxPageSize }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        elements = try c.decodeIfPresent([SearchElement].self, forKey: .elements) ?? Self.defaultElements
        defaultPageSize = try c.decodeIfPresent(Int.self, forKey: .defaultPageSize) ?? 50
        maxPageSize = try c.decodeIfPresent(Int.self, forKey: .maxPageSize) ?? 500
    }

    /// What a gateway offers when its YAML names no elements: free text (`q`, always there)
    /// and the dataset's format as a select.
    public static let defaultElements: [SearchElement] = [
        SearchElement(name: "format", kind: .select, column: .format),
    ]

    /// Parameter names that are not elements (an element may not take one of them).
    public static let reservedNames: Set<String> = ["q", "limit", "after", "sort", "order", "format_", "page", "offset", "id", "fields"]

    /// Refuses a configuration the parser could not serve, naming the element at fault.
    public func validate() throws(SearchConfigurationError) {
        guard (1...10_000).contains(maxPageSize) else {
            throw SearchConfigurationError("catalog.search.maxPageSize must be in 1...10000 (is \(maxPageSize))")
        }
        guard (1...maxPageSize).contains(defaultPageSize) else {
            throw SearchConfigurationError("catalog.search.defaultPageSize must be in 1...maxPageSize (\(maxPageSize)) (is \(defaultPageSize))")
        }
        var seen = Set<String>()
        for (i, element) in elements.enumerated() {
            let label = "catalog.search.elements[\(i)] (\(element.name))"
            guard Self.isValidName(element.name) else {
                throw SearchConfigurationError("\(label): name must match [a-z][a-z0-9_]{0,31}")
            }
            guard !Self.reservedNames.contains(element.name) else {
                throw SearchConfigurationError("\(label): \(element.name) is a reserved parameter name")
            }
            guard seen.insert(element.name).inserted else {
                throw SearchConfigurationError("\(label): the name \(element.name) is used twice")
            }
            try element.validate(label: label)
        }
    }

    static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    public func element(named name: String) -> SearchElement? { elements.first { $0.name == name } }
}

public struct SearchConfigurationError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One configured element. Which fields matter depends on `kind`:
/// - text: `keys`, `match` (contains | prefix | exact);
/// - range: `keys`;
/// - dateRange: `dateKeys` (YAML `keys`, each a key or `{key: MJD-OBS, as: mjd|jd|unix}`);
/// - select: `keys` or `column`, `maxValues`;
/// - cone: `ra`, `dec` (alternate key lists, `ra[i]` paired with `dec[i]` of the same scope),
///   `maxRadius` (degrees).
public struct SearchElement: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        case text, range, dateRange, select, cone
    }

    public var name: String
    public var kind: Kind
    public var keys: [String]
    public var dateKeys: [DateKey]
    public var match: TextMatch
    public var column: DatasetColumn?
    public var maxValues: Int
    public var ra: [String]
    public var dec: [String]
    public var maxRadius: Double

    public init(name: String, kind: Kind, keys: [String] = [], dateKeys: [DateKey] = [],
                match: TextMatch = .contains, column: DatasetColumn? = nil, maxValues: Int = 200,
                ra: [String] = [], dec: [String] = [], maxRadius: Double = 10) {
        self.name = name; self.kind = kind; self.keys = keys; self.dateKeys = dateKeys; self.match = match
        self.column = column; self.maxValues = maxValues; self.ra = ra; self.dec = dec; self.maxRadius = maxRadius
    }

    enum CodingKeys: String, CodingKey { case name, type, keys, match, column, maxValues, ra, dec, maxRadius }

    /// A dateRange key in YAML: `DATE-OBS` or `{key: MJD-OBS, as: mjd}`.
    struct DateKeySpelling: Codable {
        var key: String
        var scale: DateKey.Scale
        enum CodingKeys: String, CodingKey { case key, scale = "as" }
        init(from decoder: any Decoder) throws {
            if let plain = try? decoder.singleValueContainer().decode(String.self) {
                key = plain; scale = .date
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            scale = try c.decodeIfPresent(DateKey.Scale.self, forKey: .scale) ?? .date
        }
        init(_ k: DateKey) { key = k.key; scale = k.scale }
        func encode(to encoder: any Encoder) throws {
            if scale == .date {
                var c = encoder.singleValueContainer(); try c.encode(key)
            } else {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(key, forKey: .key); try c.encode(scale, forKey: .scale)
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(Kind.self, forKey: .type)
        if kind == .dateRange {
            dateKeys = try (c.decodeIfPresent([DateKeySpelling].self, forKey: .keys) ?? []).map { DateKey(key: $0.key, scale: $0.scale) }
            keys = dateKeys.map(\.key)
        } else {
            keys = try c.decodeIfPresent([String].self, forKey: .keys) ?? []
            dateKeys = []
        }
        match = try c.decodeIfPresent(TextMatch.self, forKey: .match) ?? .contains
        column = try c.decodeIfPresent(DatasetColumn.self, forKey: .column)
        maxValues = try c.decodeIfPresent(Int.self, forKey: .maxValues) ?? 200
        ra = try c.decodeIfPresent([String].self, forKey: .ra) ?? []
        dec = try c.decodeIfPresent([String].self, forKey: .dec) ?? []
        maxRadius = try c.decodeIfPresent(Double.self, forKey: .maxRadius) ?? 10
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(kind, forKey: .type)
        switch kind {
        case .text:
            try c.encode(keys, forKey: .keys); try c.encode(match, forKey: .match)
        case .range:
            try c.encode(keys, forKey: .keys)
        case .dateRange:
            try c.encode(dateKeys.map(DateKeySpelling.init), forKey: .keys)
        case .select:
            if let column { try c.encode(column, forKey: .column) } else { try c.encode(keys, forKey: .keys) }
            try c.encode(maxValues, forKey: .maxValues)
        case .cone:
            try c.encode(ra, forKey: .ra); try c.encode(dec, forKey: .dec); try c.encode(maxRadius, forKey: .maxRadius)
        }
    }

    func validate(label: String) throws(SearchConfigurationError) {
        func keysOK(_ list: [String], _ field: String) throws(SearchConfigurationError) {
            guard !list.isEmpty else { throw SearchConfigurationError("\(label): \(field) is empty") }
            for key in list where key.isEmpty || key.utf8.count > MetaRow.maxKeyBytes {
                throw SearchConfigurationError("\(label): a key in \(field) is empty or longer than \(MetaRow.maxKeyBytes) bytes")
            }
        }
        switch kind {
        case .text, .range:
            try keysOK(keys, "keys")
        case .dateRange:
            try keysOK(dateKeys.map(\.key), "keys")
        case .select:
            if column != nil {
                guard keys.isEmpty else { throw SearchConfigurationError("\(label): give keys or column, not both") }
            } else {
                try keysOK(keys, "keys")
            }
            guard (1...10_000).contains(maxValues) else { throw SearchConfigurationError("\(label): maxValues must be in 1...10000") }
        case .cone:
            try keysOK(ra, "ra"); try keysOK(dec, "dec")
            guard ra.count == dec.count else {
                throw SearchConfigurationError("\(label): ra and dec must list the same number of keys (they pair in order: ra[i] with dec[i])")
            }
            guard maxRadius.isFinite, maxRadius > 0, maxRadius <= 180 else {
                throw SearchConfigurationError("\(label): maxRadius must be in (0, 180] degrees")
            }
        }
        if kind != .select, column != nil { throw SearchConfigurationError("\(label): column is for select elements only") }
    }
}
