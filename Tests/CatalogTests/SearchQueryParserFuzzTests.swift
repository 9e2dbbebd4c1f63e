@testable import Catalog
import Foundation
import Testing
import TestSupport

/// Seeded fuzzing of the search parser and the SQL builders behind it: random bytes as
/// parameter names and values, random mutations of well-formed queries, and random
/// well-formed queries. The parser either returns a query or throws its typed
/// `SearchParameterError` naming a parameter (a crash, a trap on arithmetic or an untyped
/// error would end the test process); every accepted query builds SQL on both dialects with
/// its values bound; every well-formed query is accepted, and its cursor
/// pages it.
@Suite struct SearchQueryParserFuzzTests {
    let parser = SearchQueryParser(configuration: observatoryElements)

    static let names = ["q", "limit", "after", "sort", "object", "exptime.min", "exptime.max", "observed.from", "observed.to",
                        "filter", "format", "position.ra", "position.dec", "position.radius"]
    static let pieces = ["0", "1", "9", ".", "-", "+", "e", "E", "T", ":", "Z", "2020-01-01", "12:30", "nan", "inf", "'", "\"",
                         "%", "_", "\\", "*", " ", "\u{0}", "é", "Å", "\u{10FFFF}", "NEAR", "OR", "(", ")", "id", "name", "observed",
                         "999999999999999999999", "1e308", "1e309", "-0", "ngc", "eyJrIjpudWxsfQ"]

    func check(_ pairs: [(name: String, value: String)]) -> SearchQuery? {
        do {
            let query = try parser.parse(pairs)
            for dialect in [SQLDialect.sqlite, .postgres] {
                let statement = SQLBuilder.search(query, visibleTo: .member(user: nil, groups: ["a"]), dialect: dialect)
                let placeholders = dialect == .sqlite ? "?" : "$"
                // Every value is bound (SQLBuilderTests holds the text free of the values).
                #expect(statement.sql.components(separatedBy: placeholders).count - 1 >= statement.binds.count)
            }
            return query
        } catch {
            #expect(!error.message.isEmpty)
            if pairs.count <= SearchQueryParser.maxParameters { #expect(error.parameter != nil, "\(pairs): \(error)") }
            return nil
        }
    }

    @Test func randomBytesAreQueriesOrTypedRefusals() {
        var rng = SplitMix64(seed: 27)
        for _ in 0..<3000 {
            var pairs = [(name: String, value: String)]()
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                func bytes(_ max: Int) -> String {
                    String(decoding: (0..<Int.random(in: 0...max, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, as: UTF8.self)
                }
                let name = Bool.random(using: &rng) ? Self.names.randomElement(using: &rng)! : bytes(12)
                pairs.append((name: name, value: bytes(40)))
            }
            _ = check(pairs)
        }
    }

    @Test func mutatedQueriesAreQueriesOrTypedRefusals() {
        var rng = SplitMix64(seed: 6)
        for _ in 0..<5000 {
            var pairs = [(name: String, value: String)]()
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let value = (0..<Int.random(in: 0...4, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined()
                pairs.append((name: Self.names.randomElement(using: &rng)!, value: value))
            }
            _ = check(pairs)
        }
    }

    @Test func wellFormedQueriesAreAcceptedAndTheirCursorsPageThem() throws {
        var rng = SplitMix64(seed: 19)
        for _ in 0..<2000 {
            var pairs = [(name: String, value: String)]()
            if Bool.random(using: &rng) { pairs.append(("object", ["ngc", "M31", "100%_", "Å b"].randomElement(using: &rng)!)) }
            if Bool.random(using: &rng) {
                let lo = Double.random(in: -1e6...1e6, using: &rng)
                pairs.append(("exptime.min", "\(lo)"))
                if Bool.random(using: &rng) { pairs.append(("exptime.max", "\(lo + Double.random(in: 0...1e3, using: &rng))")) }
            }
            if Bool.random(using: &rng) {
                let y = Int.random(in: 1...9998, using: &rng)
                pairs.append(("observed.from", String(format: "%04d-01-01", y)))
                pairs.append(("observed.to", String(format: "%04d-06-30T12:00:00Z", y)))
            }
            for _ in 0..<Int.random(in: 0...3, using: &rng) { pairs.append(("filter", ["V", "R", "Ha"].randomElement(using: &rng)!)) }
            if Bool.random(using: &rng) {
                pairs.append(("position.ra", "\(Double.random(in: 0..<360, using: &rng))"))
                pairs.append(("position.dec", "\(Double.random(in: -90...90, using: &rng))"))
                pairs.append(("position.radius", "\(Double.random(in: 0.0001...10, using: &rng))"))
            }
            if Bool.random(using: &rng) { pairs.append(("q", ["m31 field", "Ångström", "obs 12"].randomElement(using: &rng)!)) }
            let sort = SearchSort.allCases.randomElement(using: &rng)!
            pairs.append(("sort", sort.rawValue))
            pairs.append(("limit", "\(Int.random(in: 1...500, using: &rng))"))
            let query = try #require(check(pairs), "\(pairs)")
            let value: SearchCursor.SortValue = switch sort {
            case .id: .none
            case .name: .text("obs_\(Int.random(in: 0...999, using: &rng))")
            case .observed: .number(Double.random(in: -1e9...1e9, using: &rng))
            }
            let cursor = SearchCursor(sortValue: value, id: Int64.random(in: 1...Int64.max, using: &rng), queryHash: QueryHash.of(query))
            let next = try #require(check(pairs + [("after", cursor.encoded)]))
            #expect(next.after == cursor)
        }
    }
}
