/// A search parameter the gateway refuses: answered as 400 `{"error": message, "parameter": name}`.
public struct SearchParameterError: Error, Equatable, CustomStringConvertible {
    /// The parameter at fault (cut to 64 characters: it may be anything the client sent);
    /// `nil` when the request as a whole is refused (too many parameters).
    public var parameter: String?
    public var message: String
    public init(parameter: String?, message: String) {
        self.parameter = parameter.map { String($0.prefix(64)) }; self.message = message
    }
    public var description: String { parameter.map { "\($0): \(message)" } ?? message }
}

/// Request parameters (`[(name, value)]` as decoded from the query string, in order) and the
/// configured elements → a validated `SearchQuery`. Pure: no store, no clock.
///
/// Grammar (Docs/catalog.md "Search"): `q` free text; `limit` 1…maxPageSize; `after` a cursor
/// of the same query; `sort` id|name|observed; per element: text `NAME=value`; range
/// `NAME.min`/`NAME.max`; dateRange `NAME.from`/`NAME.to`; select `NAME=v` repeated (OR'd);
/// cone `NAME.ra`, `NAME.dec`, `NAME.radius` (all three).
public struct SearchQueryParser: Sendable {
    public var configuration: SearchConfiguration

    /// Most parameters in one request.
    public static let maxParameters = 100
    /// Longest parameter value, bytes.
    public static let maxValueBytes = 1024
    /// Most values of one select element.
    public static let maxSelectValues = 64

    public init(configuration: SearchConfiguration) { self.configuration = configuration }

    public func parse(_ parameters: [(name: String, value: String)]) throws(SearchParameterError) -> SearchQuery {
        guard parameters.count <= Self.maxParameters else {
            throw SearchParameterError(parameter: nil, message: "too many parameters (at most \(Self.maxParameters))")
        }
        var values = [String: [String]]()
        for (name, value) in parameters {
            guard value.utf8.count <= Self.maxValueBytes else {
                throw SearchParameterError(parameter: name, message: "value longer than \(Self.maxValueBytes) bytes")
            }
            guard isKnown(name) else {
                throw SearchParameterError(parameter: name, message: "unknown search parameter")
            }
            // No stored value can hold a NUL (PostgreSQL text refuses it; the harvest never
            // writes one), and bound to PostgreSQL it is a store error (a 502), not an answer.
            guard !value.utf8.contains(0) else {
                throw SearchParameterError(parameter: name, message: "contains a NUL character")
            }
            values[name, default: []].append(value)
        }
        func single(_ name: String) throws(SearchParameterError) -> String? {
            guard let list = values[name] else { return nil }
            guard list.count == 1 else { throw SearchParameterError(parameter: name, message: "given more than once") }
            return list[0]
        }
        func number(_ name: String) throws(SearchParameterError) -> Double? {
            guard let text = try single(name) else { return nil }
            guard let v = QueryValues.number(text) else {
                throw SearchParameterError(parameter: name, message: "not a finite decimal number")
            }
            return v
        }
        func date(_ name: String) throws(SearchParameterError) -> Double? {
            guard let text = try single(name) else { return nil }
            guard let v = QueryValues.date(text) else {
                throw SearchParameterError(parameter: name, message: "not a date (YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.f]][Z|±hh:mm])")
            }
            return v
        }

        var query = SearchQuery(limit: configuration.defaultPageSize)
        if let text = try single("q") {
            let tokens = FreeText.tokens(text)
            guard !tokens.isEmpty else { throw SearchParameterError(parameter: "q", message: "has no letters or digits to search for") }
            guard tokens.count <= FreeText.maxQueryTokens else {
                throw SearchParameterError(parameter: "q", message: "more than \(FreeText.maxQueryTokens) words")
            }
            query.textTokens = tokens
        }
        if let text = try single("limit") {
            guard text.utf8.count <= 6, text.utf8.allSatisfy(QueryValues.isDigit), let n = Int(text),
                  (1...configuration.maxPageSize).contains(n) else {
                throw SearchParameterError(parameter: "limit", message: "must be a whole number in 1...\(configuration.maxPageSize)")
            }
            query.limit = n
        }
        if let text = try single("sort") {
            guard let sort = SearchSort(rawValue: text) else {
                throw SearchParameterError(parameter: "sort", message: "must be one of id, name, observed")
            }
            query.sort = sort
        }

        for element in configuration.elements {
            let n = element.name
            switch element.kind {
            case .text:
                guard let value = try single(n) else { continue }
                guard !value.isEmpty else { throw SearchParameterError(parameter: n, message: "is empty") }
                query.conditions.append(.text(keys: element.keys, match: element.match, value: value))
            case .range:
                let min = try number("\(n).min"), max = try number("\(n).max")
                guard min != nil || max != nil else { continue }
                if let min, let max, min > max { throw SearchParameterError(parameter: "\(n).min", message: "is greater than \(n).max") }
                query.conditions.append(.range(keys: element.keys, min: min, max: max))
            case .dateRange:
                let from = try date("\(n).from"), to = try date("\(n).to")
                guard from != nil || to != nil else { continue }
                if let from, let to, from > to { throw SearchParameterError(parameter: "\(n).from", message: "is later than \(n).to") }
                query.conditions.append(.dateRange(keys: element.dateKeys, from: from, to: to))
            case .select:
                guard let list = values[n] else { continue }
                guard list.count <= Self.maxSelectValues else {
                    throw SearchParameterError(parameter: n, message: "more than \(Self.maxSelectValues) values")
                }
                guard !list.contains(where: \.isEmpty) else { throw SearchParameterError(parameter: n, message: "is empty") }
                let distinct = Array(Set(list)).sorted()
                if let column = element.column {
                    query.conditions.append(.column(column, values: distinct))
                } else {
                    query.conditions.append(.select(keys: element.keys, values: distinct))
                }
            case .cone:
                let ra = try number("\(n).ra"), dec = try number("\(n).dec"), radius = try number("\(n).radius")
                if ra == nil && dec == nil && radius == nil { continue }
                guard let ra else { throw SearchParameterError(parameter: "\(n).ra", message: "a cone needs ra, dec and radius") }
                guard let dec else { throw SearchParameterError(parameter: "\(n).dec", message: "a cone needs ra, dec and radius") }
                guard let radius else { throw SearchParameterError(parameter: "\(n).radius", message: "a cone needs ra, dec and radius") }
                guard ra >= 0, ra < 360 else { throw SearchParameterError(parameter: "\(n).ra", message: "must be in [0, 360) degrees") }
                guard abs(dec) <= 90 else { throw SearchParameterError(parameter: "\(n).dec", message: "must be in [-90, 90] degrees") }
                guard radius > 0, radius <= element.maxRadius else {
                    throw SearchParameterError(parameter: "\(n).radius", message: "must be in (0, \(element.maxRadius)] degrees")
                }
                query.conditions.append(.cone(raKeys: element.ra, decKeys: element.dec, ra: ra, dec: dec, radius: radius))
            }
        }

        if let text = try single("after") {
            let hash = QueryHash.of(query)
            guard let cursor = SearchCursor(encoded: text) else {
                throw SearchParameterError(parameter: "after", message: "not a cursor this search returned")
            }
            guard cursor.queryHash == hash else {
                throw SearchParameterError(parameter: "after", message: "belongs to another search (the parameters or sort changed)")
            }
            switch (query.sort, cursor.sortValue) {
            case (.id, .none), (.name, .text), (.observed, .number): break
            default: throw SearchParameterError(parameter: "after", message: "belongs to another sort")
            }
            query.after = cursor
        }
        return query
    }

    /// The parameter names the configuration accepts.
    func isKnown(_ name: String) -> Bool {
        if ["q", "limit", "after", "sort"].contains(name) { return true }
        let base: Substring, suffix: Substring?
        if let dot = name.firstIndex(of: ".") {
            base = name[..<dot]; suffix = name[name.index(after: dot)...]
        } else {
            base = Substring(name); suffix = nil
        }
        guard let element = configuration.element(named: String(base)) else { return false }
        switch element.kind {
        case .text, .select: return suffix == nil
        case .range: return suffix == "min" || suffix == "max"
        case .dateRange: return suffix == "from" || suffix == "to"
        case .cone: return suffix == "ra" || suffix == "dec" || suffix == "radius"
        }
    }
}
