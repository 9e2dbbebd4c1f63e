@testable import Catalog
import Foundation
import Testing

/// The elements of plan §4's YAML example, as a gateway would configure them.
let observatoryElements = SearchConfiguration(elements: [
    SearchElement(name: "object", kind: .text, keys: ["OBJECT", "TARGNAME"], match: .contains),
    SearchElement(name: "exptime", kind: .range, keys: ["EXPTIME", "EXPOSURE"]),
    SearchElement(name: "observed", kind: .dateRange, dateKeys: [DateKey(key: "DATE-OBS"), DateKey(key: "DATE"), DateKey(key: "MJD-OBS", scale: .mjd)]),
    SearchElement(name: "filter", kind: .select, keys: ["FILTER", "FILTER1"], maxValues: 200),
    SearchElement(name: "position", kind: .cone, ra: ["RA", "RA_OBJ"], dec: ["DEC", "DEC_OBJ"], maxRadius: 10),
    SearchElement(name: "format", kind: .select, column: .format),
], defaultPageSize: 50, maxPageSize: 500)

/// Every hostile value of plan §10 row 6, put in every parameter.
let hostileValues = [
    "' OR 1=1 --", "\"; DROP TABLE dataset; --", "1; DELETE FROM meta", "%", "_", "\\", "%' --",
    "NaN", "nan", "inf", "-Infinity", "1e999", "0x1p3", "", " ", "\u{0}", "1\u{0}", "ä' OR 'a'='a",
    "$1", "?", ":name", "*", "\"x\"*", "NEAR(a b)", "a' UNION SELECT * FROM dataset_doc --",
    String(repeating: "9", count: 400), String(repeating: "x", count: 1025), "2020-13-01", "2020-02-30",
    "1970-01-01T25:00", "+", ".", "1..2", "1e", "１２３",
]

@Suite struct SearchQueryParserTests {
    let parser = SearchQueryParser(configuration: observatoryElements)

    func parse(_ pairs: [(String, String)]) throws(SearchParameterError) -> SearchQuery {
        try parser.parse(pairs.map { (name: $0.0, value: $0.1) })
    }

    func refused(_ pairs: [(String, String)], parameter: String?, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let q = try parse(pairs)
            Issue.record("accepted \(pairs) as \(q)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.parameter == parameter, "\(pairs): \(error)", sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test func parsesEveryElementType() throws {
        let q = try parse([
            ("object", "ngc 1300"), ("exptime.min", "10"), ("exptime.max", "30"),
            ("observed.from", "2020-01-01"), ("observed.to", "2020-02-01T12:00Z"),
            ("filter", "V"), ("filter", "R"), ("position.ra", "10.68"), ("position.dec", "41.27"),
            ("position.radius", "0.5"), ("q", "M31 field"), ("limit", "7"), ("sort", "observed"), ("format", "fits"),
        ])
        #expect(q.limit == 7)
        #expect(q.sort == .observed)
        #expect(q.textTokens == ["m31", "field"])
        #expect(q.conditions == [
            .text(keys: ["OBJECT", "TARGNAME"], match: .contains, value: "ngc 1300"),
            .range(keys: ["EXPTIME", "EXPOSURE"], min: 10, max: 30),
            .dateRange(keys: [DateKey(key: "DATE-OBS"), DateKey(key: "DATE"), DateKey(key: "MJD-OBS", scale: .mjd)],
                       from: 1_577_836_800, to: 1_580_558_400),
            .select(keys: ["FILTER", "FILTER1"], values: ["R", "V"]),
            .cone(raKeys: ["RA", "RA_OBJ"], decKeys: ["DEC", "DEC_OBJ"], ra: 10.68, dec: 41.27, radius: 0.5),
            .column(.format, values: ["fits"]),
        ])
    }

    @Test func defaultsAndOpenRanges() throws {
        let q = try parse([("exptime.max", "5"), ("observed.from", "2021-03-04T05:06:07.5+01:00")])
        #expect(q.limit == 50 && q.sort == .id && q.after == nil)
        #expect(q.conditions == [
            .range(keys: ["EXPTIME", "EXPOSURE"], min: nil, max: 5),
            .dateRange(keys: observatoryElements.elements[2].dateKeys, from: 1_614_830_767.5, to: nil),
        ])
        #expect(try parse([]) == SearchQuery(limit: 50))
    }

    @Test func refusesUnknownAndMisspelledParameters() {
        refused([("nosuch", "1")], parameter: "nosuch")
        refused([("exptime", "1")], parameter: "exptime")
        refused([("exptime.mean", "1")], parameter: "exptime.mean")
        refused([("object.min", "1")], parameter: "object.min")
        refused([("position.r", "1")], parameter: "position.r")
        refused([("Q", "x")], parameter: "Q")
        refused([("' OR 1=1 --", "x")], parameter: "' OR 1=1 --")
    }

    @Test func refusesBadNumbersAndBounds() {
        for bad in ["NaN", "nan", "inf", "-Infinity", "1e999", "0x1p3", "", " 1", "1 ", "1,5", "1e", ".", "+", "１２３"] {
            refused([("exptime.min", bad)], parameter: "exptime.min")
        }
        refused([("exptime.min", "30"), ("exptime.max", "10")], parameter: "exptime.min")
        refused([("observed.from", "2020-02-01"), ("observed.to", "2020-01-01")], parameter: "observed.from")
        for bad in ["2020-13-01", "2020-02-30", "2021-02-29", "1970-01-01T25:00", "2020-01-01T10", "20200101", "yesterday", "2020-01-01Z", "2020-01-01T00:00+1:00"] {
            refused([("observed.to", bad)], parameter: "observed.to")
        }
    }

    @Test func refusesBadCones() {
        func cone(_ ra: String, _ dec: String, _ r: String) -> [(String, String)] {
            [("position.ra", ra), ("position.dec", dec), ("position.radius", r)]
        }
        refused(cone("360", "0", "1"), parameter: "position.ra")
        refused(cone("-0.1", "0", "1"), parameter: "position.ra")
        refused(cone("10", "90.01", "1"), parameter: "position.dec")
        refused(cone("10", "-91", "1"), parameter: "position.dec")
        refused(cone("10", "0", "0"), parameter: "position.radius")
        refused(cone("10", "0", "-1"), parameter: "position.radius")
        refused(cone("10", "0", "10.5"), parameter: "position.radius")
        refused([("position.ra", "10"), ("position.dec", "0")], parameter: "position.radius")
        refused([("position.radius", "1")], parameter: "position.ra")
        #expect(throws: Never.self) { try parse(cone("0", "-90", "10")) }
        #expect(throws: Never.self) { try parse(cone("359.999", "90", "0.001")) }
    }

    @Test func refusesRepeatsTooManyAndTooLong() {
        refused([("object", "a"), ("object", "b")], parameter: "object")
        refused([("limit", "5"), ("limit", "5")], parameter: "limit")
        refused([("q", "a"), ("q", "b")], parameter: "q")
        refused([("exptime.min", "1"), ("exptime.min", "2")], parameter: "exptime.min")
        refused(Array(repeating: ("filter", "V"), count: 65), parameter: "filter")
        #expect(throws: Never.self) { try parse(Array(repeating: ("filter", "V"), count: 64)) }
        refused(Array(repeating: ("format", "x"), count: 101), parameter: nil)
        refused([("object", String(repeating: "x", count: 1025))], parameter: "object")
        refused([("object", "")], parameter: "object")
        refused([("filter", "")], parameter: "filter")
        refused([("q", "%%% ---")], parameter: "q")
        refused([("q", Array(repeating: "w", count: 17).joined(separator: " "))], parameter: "q")
    }

    @Test func limitIsRefusedNotClamped() throws {
        for bad in ["0", "-1", "501", "1000000", "99999999999999999999", "1.5", "1e2", " 5", "+5", "", "NaN"] {
            refused([("limit", bad)], parameter: "limit")
        }
        #expect(try parse([("limit", "500")]).limit == 500)
        #expect(try parse([("limit", "1")]).limit == 1)
        refused([("sort", "id; DROP TABLE dataset")], parameter: "sort")
        refused([("sort", "NAME")], parameter: "sort")
    }

    @Test func cursorsRoundTripAndBelongToTheirQuery() throws {
        let base = [("exptime.min", "10"), ("sort", "name")]
        let q = try parse(base)
        let cursor = SearchCursor(sortValue: .text("ngc ' 1300 \u{e9}"), id: 42, queryHash: QueryHash.of(q))
        let again = try parse(base + [("after", cursor.encoded), ("limit", "3")])
        #expect(again.after == cursor)
        #expect(!cursor.encoded.contains("=") && !cursor.encoded.contains("+") && !cursor.encoded.contains("/"))
        // Same conditions, another query: refused.
        refused([("exptime.min", "11"), ("sort", "name"), ("after", cursor.encoded)], parameter: "after")
        refused([("exptime.min", "10"), ("sort", "id"), ("after", cursor.encoded)], parameter: "after")
        // A cursor whose hash matches but whose sort value has the wrong type (hand-made).
        let forged = SearchCursor(sortValue: .number(3), id: 1, queryHash: QueryHash.of(q))
        refused(base + [("after", forged.encoded)], parameter: "after")
        for bad in ["", "x", "e30", "!!!!", "eyJrIjpudWxsfQ", String(repeating: "A", count: 2000), "' OR 1=1 --"] {
            refused(base + [("after", bad)], parameter: "after")
        }
    }

    /// Regression (test_search_bad_input.py): `q=a%00b` was searched as `a b`, and `object=%00`
    /// or a cursor forged with a NUL in its name reached PostgreSQL, which failed (502).
    @Test func nulIsRefusedInEveryValueAndInCursors() throws {
        for name in ["q", "object", "filter", "format", "exptime.min", "sort", "limit", "after"] {
            refused([(name, "a\u{0}b")], parameter: name)
            refused([(name, "\u{0}")], parameter: name)
        }
        let base = [("object", "ngc"), ("sort", "name")]
        let hash = QueryHash.of(try parse(base))
        let good = SearchCursor(sortValue: .text("obs_1"), id: 3, queryHash: hash)
        #expect(try parse(base + [("after", good.encoded)]).after == good)
        for name in ["\u{0}", "obs\u{0}1"] {
            let forged = SearchCursor(sortValue: .text(name), id: 3, queryHash: hash)
            #expect(SearchCursor(encoded: forged.encoded) == nil)
            refused(base + [("after", forged.encoded)], parameter: "after")
        }
    }

    @Test func queryHashIsStableAndSeesEveryPart() throws {
        // A constant: Swift's Hasher would differ between runs; this must not.
        let q = SearchQuery(conditions: [.range(keys: ["EXPTIME"], min: 1, max: nil)], textTokens: ["m31"], sort: .id)
        #expect(QueryHash.of(q) == QueryHash.of(q))
        #expect(QueryHash.hex(QueryHash.of(q)).count == 16)
        var other = q; other.conditions = [.range(keys: ["EXPTIME"], min: nil, max: 1)]
        #expect(QueryHash.of(other) != QueryHash.of(q))
        other = q; other.textTokens = ["m3", "1"]
        #expect(QueryHash.of(other) != QueryHash.of(q))
        other = q; other.limit = 3
        #expect(QueryHash.of(other) == QueryHash.of(q), "the page size may change between pages")
        // Select values are normalised (order, duplicates) before hashing.
        #expect(try QueryHash.of(parse([("filter", "V"), ("filter", "R")])) == QueryHash.of(parse([("filter", "R"), ("filter", "V"), ("filter", "R")])))
    }

    @Test func hostileValuesInEveryParameterAre400OrBoundValues() throws {
        let names = ["q", "limit", "after", "sort", "object", "exptime.min", "exptime.max", "observed.from", "observed.to",
                     "filter", "format", "position.ra", "position.dec", "position.radius"]
        for name in names {
            for value in hostileValues {
                var pairs = [(name, value)]
                if name.hasPrefix("position.") {
                    pairs = [("position.ra", "10"), ("position.dec", "10"), ("position.radius", "1")].map { $0.0 == name ? ($0.0, value) : $0 }
                }
                do {
                    let q = try parse(pairs)
                    // Accepted only as data: a text/select value or free-text tokens, never anything else.
                    #expect(["q", "object", "filter", "format"].contains(name), "\(name)=\(value) accepted: \(q)")
                } catch {
                    #expect(error.parameter != nil)
                }
            }
        }
    }

    @Test func configurationValidation() throws {
        try observatoryElements.validate()
        try SearchConfiguration().validate()
        func invalid(_ e: SearchElement, _ fragment: String) {
            let c = SearchConfiguration(elements: [e])
            #expect(throws: SearchConfigurationError.self) { try c.validate() }
            do { try c.validate() } catch { #expect(error.message.contains(fragment), "\(error.message)") }
        }
        invalid(SearchElement(name: "Object", kind: .text, keys: ["OBJECT"]), "elements[0] (Object)")
        invalid(SearchElement(name: "q", kind: .text, keys: ["OBJECT"]), "reserved")
        invalid(SearchElement(name: "limit", kind: .range, keys: ["X"]), "reserved")
        invalid(SearchElement(name: "x", kind: .text, keys: []), "keys is empty")
        invalid(SearchElement(name: "pos", kind: .cone, ra: ["RA"], dec: ["DEC"], maxRadius: 0), "maxRadius")
        invalid(SearchElement(name: "pos", kind: .cone, ra: ["RA"], dec: ["DEC"], maxRadius: 181), "maxRadius")
        invalid(SearchElement(name: "pos", kind: .cone, ra: ["RA", "RA_OBJ"], dec: ["DEC"]), "same number")
        invalid(SearchElement(name: "f", kind: .select, keys: ["F"], column: .format), "not both")
        invalid(SearchElement(name: "r", kind: .range, keys: ["X"], column: .format), "column")
        let twice = SearchConfiguration(elements: [SearchElement(name: "a", kind: .text, keys: ["A"]), SearchElement(name: "a", kind: .range, keys: ["B"])])
        #expect(throws: SearchConfigurationError.self) { try twice.validate() }
        #expect(throws: SearchConfigurationError.self) { try SearchConfiguration(defaultPageSize: 600, maxPageSize: 500).validate() }
    }

    @Test func decodesTheGatewayYAMLShape() throws {
        // The YAML of plan §4 as JSON (the gateway decodes YAML into the same Codable).
        let json = """
        {"defaultPageSize": 20, "maxPageSize": 100, "elements": [
          {"name": "object", "type": "text", "keys": ["OBJECT", "TARGNAME"], "match": "prefix"},
          {"name": "exptime", "type": "range", "keys": ["EXPTIME"]},
          {"name": "observed", "type": "dateRange", "keys": ["DATE-OBS", {"key": "MJD-OBS", "as": "mjd"}, {"key": "JD", "as": "jd"}]},
          {"name": "filter", "type": "select", "keys": ["FILTER"], "maxValues": 20},
          {"name": "position", "type": "cone", "ra": ["RA"], "dec": ["DEC"], "maxRadius": 5},
          {"name": "format", "type": "select", "column": "format"}]}
        """
        let c = try JSONDecoder().decode(SearchConfiguration.self, from: Data(json.utf8))
        try c.validate()
        #expect(c.defaultPageSize == 20 && c.maxPageSize == 100)
        #expect(c.elements[0] == SearchElement(name: "object", kind: .text, keys: ["OBJECT", "TARGNAME"], match: .prefix))
        #expect(c.elements[2].dateKeys == [DateKey(key: "DATE-OBS"), DateKey(key: "MJD-OBS", scale: .mjd), DateKey(key: "JD", scale: .jd)])
        #expect(c.elements[4].maxRadius == 5)
        #expect(c.elements[5].column == .format)
        let back = try JSONDecoder().decode(SearchConfiguration.self, from: JSONEncoder().encode(c))
        #expect(back == c)
        let empty = try JSONDecoder().decode(SearchConfiguration.self, from: Data("{}".utf8))
        #expect(empty == SearchConfiguration())
        #expect(empty.elements.contains { $0.name == "format" })
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(SearchConfiguration.self, from: Data(#"{"elements":[{"name":"o","type":"dateRange","keys":[{"key":"X","as":"tai"}]}]}"#.utf8))
        }
    }
}
