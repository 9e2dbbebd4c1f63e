@testable import Catalog
import CatalogSQLite
import Foundation
import Testing
import TestSupport

@Suite struct SQLBuilderTests {
    let parser = SearchQueryParser(configuration: observatoryElements)

    /// Parameters that use every element with one string slot filled by `value`.
    func statement(_ value: String, dialect: SQLDialect, viewer: Viewer) throws -> SQLStatement {
        let q = try parser.parse([("object", value), ("filter", value), ("format", value), ("q", "m31 " + value + " x"),
                                  ("exptime.min", "1"), ("observed.from", "2020-01-01"),
                                  ("position.ra", "10"), ("position.dec", "20"), ("position.radius", "1"), ("sort", "name")])
        var query = q
        query.after = SearchCursor(sortValue: .text(value), id: 3, queryHash: QueryHash.of(q))
        return SQLBuilder.search(query, visibleTo: viewer, dialect: dialect)
    }

    @Test(arguments: [SQLDialect.sqlite, .postgres])
    func noUserStringReachesSQLText(dialect: SQLDialect) throws {
        for viewer in [Viewer.anonymous, .everyone, .member(user: "u", groups: ["g' OR 1=1 --", "h"])] {
            let harmless = try statement("harmless", dialect: dialect, viewer: viewer)
            // A `contains` needle under three characters takes the scan instead of SQLite's
            // trigram index: its own shape, held to a harmless two-character value.
            let short = try statement("hm", dialect: dialect, viewer: viewer)
            for value in hostileValues where !value.isEmpty && value.utf8.count <= 1024 && !value.utf8.contains(0) && !FreeText.tokens("m31 " + value + " x").isEmpty {
                let hostile = try statement(value, dialect: dialect, viewer: viewer)
                let reference = value.unicodeScalars.count >= 3 ? harmless : short
                #expect(hostile.sql == reference.sql, "\(value)")
                #expect(hostile.binds.count == reference.binds.count)
                #expect(!hostile.sql.contains("1=1") && !hostile.sql.contains("DROP") && !hostile.sql.contains("harmless"))
            }
        }
        // And the groups are bound too: the text depends on how many, not which.
        let a = SQLBuilder.search(SearchQuery(), visibleTo: .member(user: nil, groups: ["x", "y"]), dialect: dialect)
        let b = SQLBuilder.search(SearchQuery(), visibleTo: .member(user: nil, groups: ["'; DROP TABLE dataset; --", "\\"]), dialect: dialect)
        #expect(a.sql == b.sql)
    }

    @Test func placeholdersAreNumberedAndAllBound() throws {
        for dialect in [SQLDialect.sqlite, .postgres] {
            let s = try statement("v", dialect: dialect, viewer: .member(user: nil, groups: ["a"]))
            let mark = dialect == .sqlite ? "?" : "$"
            for n in 1...s.binds.count { #expect(s.sql.contains("\(mark)\(n)")) }
            #expect(!s.sql.contains("\(mark)\(s.binds.count + 1)"))
        }
    }

    @Test func likePatternsAreEscapedAndASCIIFolded() {
        #expect(SQLBuilder.likeEscaped("100%_a\\b") == "100\\%\\_a\\\\b")
        #expect(SQLBuilder.asciiLowercased("NGC Ångström") == "ngc Ångström")
        #expect(SQLBuilder.convert(unix: 0, to: .mjd) == 40587)
        #expect(SQLBuilder.convert(unix: 86400, to: .jd) == 2_440_588.5)
    }

    /// The prefix range of migration 3's index: [prefix, successor) holds exactly the strings
    /// that start with the prefix, in code-point (= UTF-8 byte) order.
    @Test func prefixUpperBoundIsTheSuccessor() {
        #expect(SQLBuilder.prefixUpperBound("ngc") == "ngd")
        #expect(SQLBuilder.prefixUpperBound("a\u{D7FF}") == "a\u{E000}")
        #expect(SQLBuilder.prefixUpperBound("b\u{10FFFF}") == "c")
        #expect(SQLBuilder.prefixUpperBound("\u{10FFFF}\u{10FFFF}") == nil)
        #expect(SQLBuilder.prefixUpperBound("") == nil)
        for prefix in ["ngc", "å", "z", "100%_", "a\u{7F}"] {
            let upper = SQLBuilder.prefixUpperBound(prefix)!
            for s in [prefix, prefix + "\u{0}", prefix + "zzz", prefix + "\u{10FFFF}x", prefix + "é"] {
                #expect(Array(s.utf8).lexicographicallyPrecedes(Array(upper.utf8)), "\(s) < \(upper)")
                #expect(!Array(s.utf8).lexicographicallyPrecedes(Array(prefix.utf8)))
            }
            #expect(!Array(upper.utf8).lexicographicallyPrecedes(Array(upper.utf8)))
        }
    }

    /// Migration 3's indexes serve the text elements: the SQLite plan of a prefix search is a
    /// range on `meta_key_fold` (before it, every string of the key was folded and compared).
    @Test func prefixSearchUsesTheFoldedIndex() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fold-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.sqlite").path
        let store = try SQLiteCatalog(path: path)
        try await store.migrate()
        try await store.close()
        let element = SearchElement(name: "object", kind: .text, keys: ["OBJECT", "TARGNAME"], match: .prefix)
        let q = try SearchQueryParser(configuration: SearchConfiguration(elements: [element])).parse([(name: "object", value: "NGC 1")])
        let statement = SQLBuilder.search(q, visibleTo: .everyone, dialect: .sqlite)
        // The literal values in place of the placeholders (the CLI's EXPLAIN has no bindings).
        var sql = statement.sql
        for (i, value) in statement.binds.enumerated().reversed() {
            let literal: String = switch value {
            case let .text(t): "'" + t.replacingOccurrences(of: "'", with: "''") + "'"
            case let .double(d): "\(d)"
            case let .int(n): "\(n)"
            }
            sql = sql.replacingOccurrences(of: "?\(i + 1)", with: literal)
        }
        let plan = try await runTool("sqlite3", ["-batch", path, "EXPLAIN QUERY PLAN " + sql])
        #expect(plan.contains("USING INDEX meta_key_fold (key=? AND str_fold>? AND str_fold<?)"), "\(plan)")
    }

    @Test func coneBoxWrapsAndOpensAtThePoles() {
        let plain = ConeBox(ra: 180, dec: 0, radius: 1)
        #expect(abs(plain.ra1.lowerBound - 179) < 1e-6 && abs(plain.ra1.upperBound - 181) < 1e-6)
        #expect(plain.ra2 == (1, 0))
        let wrapLow = ConeBox(ra: 0.5, dec: 0, radius: 1)
        #expect(abs(wrapLow.ra1.lowerBound - 359.5) < 1e-6 && wrapLow.ra1.upperBound == 360)
        #expect(wrapLow.ra2.0 == 0 && abs(wrapLow.ra2.1 - 1.5) < 1e-6)
        let wrapHigh = ConeBox(ra: 359.5, dec: 0, radius: 1)
        #expect(abs(wrapHigh.ra1.lowerBound - 358.5) < 1e-6 && wrapHigh.ra2.0 == 0 && abs(wrapHigh.ra2.1 - 0.5) < 1e-6)
        let polar = ConeBox(ra: 10, dec: 89.5, radius: 1)
        #expect(polar.ra1 == 0...360 && polar.decMax == 90)
        // At dec 60 the circle is twice as wide in RA: asin(sin 1° / cos 60°) ≈ 2.0003°.
        let wide = ConeBox(ra: 100, dec: 60, radius: 1)
        #expect(abs((wide.ra1.upperBound - 100) - asin(sin(1 * .pi / 180) / 0.5) * 180 / .pi) < 1e-6)
    }

    /// `DatasetRule.allows` and the SQL visibility clause agree, over random rules and viewers,
    /// on a real SQLite store.
    @Test func visibilityClauseEqualsDatasetRule() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("visibility-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteCatalog(path: dir.appendingPathComponent("c.sqlite").path)
        try await store.migrate()
        var rng = SplitMix64(seed: 26)
        let groups = ["a", "b", "c", "d", "globalaccess", "A", "a b", "'", ""]
        func someGroups() -> Set<String> { Set((0..<Int.random(in: 0...3, using: &rng)).map { _ in groups.randomElement(using: &rng) ?? "a" }) }
        var rules = [String: DatasetRule]()
        for i in 0..<120 {
            let rule = DatasetRule(ownerGroup: Bool.random(using: &rng) ? groups.randomElement(using: &rng) : nil,
                                   accessGroups: someGroups(), isPublic: Int.random(in: 0..<5, using: &rng) == 0)
            let record = try await store.record(DatasetRecord(uid: "d\(i)", name: "n\(i)", location: "/x/\(i)", access: rule,
                                                              status: .ready, created: 0, updated: 0), harvest: nil)
            rules[record.uid] = rule
        }
        for _ in 0..<150 {
            let viewer: Viewer = switch Int.random(in: 0..<6, using: &rng) {
            case 0: .anonymous
            case 1: .everyone
            default: .member(user: nil, groups: someGroups())
            }
            let page = try await store.search(SearchQuery(limit: 500), visibleTo: viewer)
            let expected = Set(rules.filter { $0.value.allows(viewer) }.keys)
            #expect(Set(page.datasets.map(\.uid)) == expected, "\(viewer)")
        }
        try await store.close()
    }
}
