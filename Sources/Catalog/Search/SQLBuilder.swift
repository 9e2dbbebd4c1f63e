/// A value bound to a statement's placeholder (never spliced into SQL text).
public enum SQLValue: Sendable, Equatable {
    case text(String)
    case double(Double)
    case int(Int64)
}

/// SQL text plus its bound values; placeholder `?n` (SQLite) or `$n` (PostgreSQL) is `binds[n-1]`.
public struct SQLStatement: Sendable, Equatable {
    public var sql: String
    public var binds: [SQLValue]
}

/// Builds the search SQL for either store from a validated `SearchQuery` and the viewer.
///
/// Shape: one `MATERIALIZED` candidate set per condition (each an index range on
/// `meta(key, num)`/`meta(key, str)` or the free-text index), intersected with `d.id IN (…)`
/// (never correlated `EXISTS`: SQLite would walk every dataset), then the visibility clause
/// (the SQL twin of `DatasetRule.allows`), the keyset `(sort, id) > (last)`, and `LIMIT n+1`
/// (the extra row says whether a next page exists).
///
/// No user string reaches the SQL text: keys come from the configuration but are bound too,
/// values are bound, and the text's shape depends only on the query's structure (how many
/// keys, values and groups), never on the values themselves — but for one bit: whether a
/// `contains` needle has three characters (SQLite's trigram index, `trigramContains`).
///
/// Case folding of text elements: ASCII only, on both stores. SQLite's `LIKE` folds ASCII
/// only; PostgreSQL gets `translate(str, 'A…Z', 'a…z') LIKE pattern` with the pattern
/// ASCII-lowercased in Swift — so `ångström` finds `Ångström` on neither and `NGC` finds `ngc`
/// on both. `exact` is byte equality.
public struct SQLBuilder {
    public let dialect: SQLDialect
    private(set) var binds: [SQLValue] = []

    init(dialect: SQLDialect) { self.dialect = dialect }

    mutating func bind(_ value: SQLValue) -> String {
        binds.append(value)
        // Numbered in both dialects (SQLite `?NNN`), so a value may appear twice and the
        // placeholders need not be bound in textual order.
        return dialect == .sqlite ? "?\(binds.count)" : "$\(binds.count)"
    }

    mutating func list(_ values: [String]) -> String {
        values.map { bind(.text($0)) }.joined(separator: ", ")
    }

    /// The dataset columns every search selects, in the order `DatasetRowValues` reads them.
    public static let datasetColumns = [
        "id", "uid", "name", "root", "location", "source_path", "source_part", "format", "source_bytes",
        "stored_bytes", "checksum", "file_mtime", "obs_time", "dimensions", "owner_group", "is_public",
        "uploader", "status", "error", "created", "updated",
    ]

    /// Sort value of a dataset without an observation time: after every real one.
    public static let unknownObservedSortValue = 1e300

    // MARK: search

    public static func search(_ query: SearchQuery, visibleTo viewer: Viewer, dialect: SQLDialect) -> SQLStatement {
        var b = SQLBuilder(dialect: dialect)
        var ctes = [String]()
        var filters = ["d.status = 'ready'"]
        let driver = b.driver(for: query)
        if let driver { filters += driver.filters }
        for (index, condition) in query.conditions.enumerated() where driver.map({ $0.conditionIndex != index }) ?? true {
            if case let .column(column, values) = condition {
                filters.append("\(b.columnExpression(column)) IN (\(b.list(values)))")
                continue
            }
            let name = "c\(ctes.count + 1)"
            ctes.append("\(name) AS MATERIALIZED (\(b.candidates(condition)))")
            filters.append("d.id IN (SELECT dataset_id FROM \(name))")
        }
        if !query.textTokens.isEmpty, driver.map({ $0.conditionIndex != nil }) ?? true {
            let name = "c\(ctes.count + 1)"
            ctes.append("\(name) AS MATERIALIZED (\(b.freeText(query.textTokens)))")
            filters.append("d.id IN (SELECT dataset_id FROM \(name))")
        }
        if let visible = b.visibility(viewer) { filters.append(visible) }
        let sortExpr: String
        switch query.sort {
        case .id: sortExpr = ""
        case .name: sortExpr = dialect == .sqlite ? "d.name" : #"d.name COLLATE "C""#
        case .observed: sortExpr = "COALESCE(d.obs_time, \(b.bind(.double(unknownObservedSortValue))))"
        }
        if let after = query.after {
            switch (query.sort, after.sortValue) {
            case (.name, let .text(v)):
                filters.append("(\(sortExpr), d.id) > (\(b.bind(.text(v))), \(b.bind(.int(after.id))))")
            case (.observed, let .number(v)):
                filters.append("(\(sortExpr), d.id) > (\(b.bind(.double(v))), \(b.bind(.int(after.id))))")
            default:
                filters.append("d.id > \(b.bind(.int(after.id)))")
            }
        }
        var sql = ""
        if !ctes.isEmpty { sql += "WITH " + ctes.joined(separator: ", ") + " " }
        sql += "SELECT " + (driver?.distinct == true ? "DISTINCT " : "") + datasetColumns.map { "d.\($0)" }.joined(separator: ", ")
        sql += " FROM " + (driver?.from ?? "dataset d") + " WHERE "
        sql += filters.joined(separator: " AND ")
        sql += " ORDER BY " + (driver?.order ?? (sortExpr.isEmpty ? "d.id" : "\(sortExpr), d.id"))
        sql += " LIMIT \(b.bind(.int(Int64(query.limit) + 1)))"
        return SQLStatement(sql: sql, binds: b.binds)
    }

    /// The access groups of the given datasets (`dataset_id`, `grp`), for a page's records.
    public static func groups(ofDatasets ids: [Int64], dialect: SQLDialect) -> SQLStatement {
        var b = SQLBuilder(dialect: dialect)
        let list = ids.map { b.bind(.int($0)) }.joined(separator: ", ")
        return SQLStatement(sql: "SELECT dataset_id, grp FROM dataset_group WHERE dataset_id IN (\(list)) ORDER BY dataset_id, grp", binds: b.binds)
    }

    /// A select element's choices: distinct values of these keys (or this column) among ready
    /// datasets the viewer may see, sorted bytewise, at most `limit`.
    public static func distinctValues(keys: [String], column: DatasetColumn?, visibleTo viewer: Viewer, limit: Int, dialect: SQLDialect) -> SQLStatement {
        var b = SQLBuilder(dialect: dialect)
        let collate = dialect == .sqlite ? "" : #" COLLATE "C""#
        var datasetFilter = ["d.status = 'ready'"]
        if let visible = b.visibility(viewer) { datasetFilter.append(visible) }
        let sql: String
        if let column {
            let expr = b.columnExpression(column)
            sql = "SELECT DISTINCT \(expr)\(collate) AS v FROM dataset d WHERE \(datasetFilter.joined(separator: " AND ")) AND \(expr) IS NOT NULL ORDER BY v LIMIT \(b.bind(.int(Int64(limit))))"
        } else {
            let keyList = b.list(keys)
            sql = "SELECT DISTINCT m.str\(collate) AS v FROM meta m WHERE m.key IN (\(keyList)) AND m.dataset_id IN (SELECT d.id FROM dataset d WHERE \(datasetFilter.joined(separator: " AND "))) ORDER BY v LIMIT \(b.bind(.int(Int64(limit))))"
        }
        return SQLStatement(sql: sql, binds: b.binds)
    }

    // MARK: parts

    func columnExpression(_ column: DatasetColumn) -> String {
        switch column {
        case .format: "d.format"
        case .name: "d.name"
        case .root: "d.root"
        case .ownerGroup: "d.owner_group"
        case .uploader: "d.uploader"
        case .dtype: dialect == .sqlite ? "json_extract(d.dimensions, '$.dataType')" : "(d.dimensions::jsonb ->> 'dataType')"
        }
    }

    /// The visibility clause, or `nil` when the viewer sees everything. Mirrors
    /// `DatasetRule.allows`: public, or owner group in the viewer's groups, or an access group
    /// in them (a fuzz test holds the two together).
    mutating func visibility(_ viewer: Viewer) -> String? {
        let isPublic = dialect == .sqlite ? "d.is_public = 1" : "d.is_public"
        switch viewer {
        case .everyone: return nil
        case .anonymous: return isPublic
        case let .member(_, groups):
            let sorted = groups.sorted()
            if sorted.isEmpty { return isPublic }
            let owner = list(sorted)
            let access = list(sorted)
            // SQLite: a probe of `dataset_group`'s primary key per dataset the page visits (a
            // page visits few); `IN (SELECT …)` built the list of every dataset of the groups
            // first, per query (17,000 at 100,000 datasets in the bench). PostgreSQL hashes
            // that list once, which is the better plan there.
            let grouped = dialect == .sqlite
                ? "EXISTS (SELECT 1 FROM dataset_group g WHERE g.dataset_id = d.id AND g.grp IN (\(access)))"
                : "d.id IN (SELECT dataset_id FROM dataset_group WHERE grp IN (\(access)))"
            return "(\(isPublic) OR d.owner_group IN (\(owner)) OR \(grouped))"
        }
    }

    /// `SELECT dataset_id FROM …` for one condition.
    mutating func candidates(_ condition: SearchCondition) -> String {
        let strC = dialect == .sqlite ? "str" : #"str COLLATE "C""#
        switch condition {
        case let .text(keys, match, value):
            let keyList = list(keys)
            switch match {
            case .exact:
                return "SELECT dataset_id FROM meta WHERE key IN (\(keyList)) AND vtype = 0 AND \(strC) = \(bind(.text(value)))"
            case .contains, .prefix:
                // The folded string (migration 3 indexes it): SQLite's generated `str_fold`,
                // PostgreSQL's `translate` expression (its trigram index serves `contains`).
                let lowered = Self.asciiLowercased(value)
                let escaped = Self.likeEscaped(lowered)
                let pattern = match == .contains ? "%\(escaped)%" : "\(escaped)%"
                if match == .contains, let viaIndex = trigramContains(keyList: keyList, lowered: lowered, pattern: pattern) {
                    return viaIndex
                }
                let folded = dialect == .sqlite ? "str_fold" : Self.postgresFold("str")
                var sql = "SELECT dataset_id FROM meta WHERE key IN (\(keyList)) AND vtype = 0"
                if match == .prefix {
                    // The prefix as a byte-order range on the index [prefix, successor), which
                    // holds exactly the strings that start with it; LIKE stays as the exact test.
                    let ordered = dialect == .sqlite ? folded : #"(\#(folded)) COLLATE "C""#
                    sql += " AND \(ordered) >= \(bind(.text(lowered)))"
                    if let upper = Self.prefixUpperBound(lowered) { sql += " AND \(ordered) < \(bind(.text(upper)))" }
                }
                return sql + " AND \(folded) LIKE \(bind(.text(pattern))) ESCAPE '\\'"
            }
        case let .range(keys, min, max):
            let keyList = list(keys)
            return "SELECT dataset_id FROM meta WHERE key IN (\(keyList)) AND vtype = 1 AND num >= \(bind(.double(min ?? -.greatestFiniteMagnitude))) AND num <= \(bind(.double(max ?? .greatestFiniteMagnitude)))"
        case let .dateRange(keys, from, to):
            // One branch per time scale; bounds converted in Swift so `(key, num)` is used.
            var branches = [String]()
            for scale in DateKey.Scale.allCases {
                let scaleKeys = keys.filter { $0.scale == scale }.map(\.key)
                guard !scaleKeys.isEmpty else { continue }
                let keyList = list(scaleKeys)
                let vtype = scale == .date ? 2 : 1
                let lo = from.map { Self.convert(unix: $0, to: scale) } ?? -.greatestFiniteMagnitude
                let hi = to.map { Self.convert(unix: $0, to: scale) } ?? .greatestFiniteMagnitude
                branches.append("SELECT dataset_id FROM meta WHERE key IN (\(keyList)) AND vtype = \(vtype) AND num >= \(bind(.double(lo))) AND num <= \(bind(.double(hi)))")
            }
            return branches.joined(separator: " UNION ALL ")
        case let .select(keys, values):
            let keyList = list(keys)
            return "SELECT dataset_id FROM meta WHERE key IN (\(keyList)) AND \(strC) IN (\(list(values)))"
        case let .cone(raKeys, decKeys, ra, dec, radius):
            let box = ConeBox(ra: ra, dec: dec, radius: radius)
            let pairs = zip(raKeys, decKeys).map { "(r.key = \(bind(.text($0.0))) AND s.key = \(bind(.text($0.1))))" }.joined(separator: " OR ")
            let raIn = "(r.num BETWEEN \(bind(.double(box.ra1.lowerBound))) AND \(bind(.double(box.ra1.upperBound))) OR r.num BETWEEN \(bind(.double(box.ra2.0))) AND \(bind(.double(box.ra2.1))))"
            let decIn = "s.num BETWEEN \(bind(.double(box.decMin))) AND \(bind(.double(box.decMax)))"
            let rKeys = list(raKeys), sKeys = list(decKeys)
            let test = ConeBox.distanceTest(ra: "r.num", dec: "s.num", centreRA: bind(.double(ra)), centreDec: bind(.double(dec)),
                                            radius: bind(.double(radius)), dialect: dialect)
            return "SELECT r.dataset_id FROM meta r JOIN meta s ON s.dataset_id = r.dataset_id AND s.scope = r.scope "
                + "WHERE r.key IN (\(rKeys)) AND r.vtype = 1 AND \(raIn) AND s.key IN (\(sKeys)) AND s.vtype = 1 AND \(decIn) "
                + "AND (\(pairs)) AND \(test)"
        case .column:
            return "SELECT id AS dataset_id FROM dataset WHERE 0 = 1"  // handled by the caller
        }
    }

    /// Free text: every token a prefix term, all required. Built only from `FreeText` tokens
    /// (letters and digits), quoted anyway, and bound.
    mutating func freeText(_ tokens: [String]) -> String {
        switch dialect {
        case .sqlite:
            return "SELECT rowid AS dataset_id FROM dataset_fts WHERE dataset_fts MATCH \(bind(.text(Self.ftsExpression(tokens))))"
        case .postgres:
            let expr = tokens.map { "'" + $0.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\\", with: "\\\\") + "':*" }.joined(separator: " & ")
            return "SELECT dataset_id FROM dataset_text WHERE tsv @@ to_tsquery('simple', \(bind(.text(expr))))"
        }
    }

    /// SQLite's FTS5 query of free-text tokens: each a quoted prefix term, all required.
    static func ftsExpression(_ tokens: [String]) -> String {
        tokens.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " AND ")
    }

    static func convert(unix: Double, to scale: DateKey.Scale) -> Double {
        switch scale {
        case .date, .unix: unix
        case .mjd: unix / 86400 + 40587
        case .jd: unix / 86400 + 40587 + 2_400_000.5
        }
    }

    /// PostgreSQL's ASCII case folding of a text expression (its `lower` folds all of Unicode
    /// under most collations; SQLite's `lower` and `LIKE` fold ASCII only, and so must this).
    static func postgresFold(_ expression: String) -> String {
        "translate(\(expression), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    }

    /// The least string greater than every string starting with `prefix`, in code-point order
    /// (= UTF-8 byte order, SQLite's BINARY and PostgreSQL's "C"): the last scalar incremented
    /// (skipping the surrogate gap), a trailing U+10FFFF dropped first. `nil` when there is
    /// none (empty, or all U+10FFFF): then only the lower bound applies.
    static func prefixUpperBound(_ prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            let next = last.value == 0xD7FF ? 0xE000 : last.value + 1
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                return String(view)
            }
        }
        return nil
    }

    static func asciiLowercased(_ s: String) -> String {
        String(decoding: s.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// `\`, `%` and `_` escaped with `\` (the statements say `ESCAPE '\'`).
    static func likeEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\\" || c == "%" || c == "_" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
