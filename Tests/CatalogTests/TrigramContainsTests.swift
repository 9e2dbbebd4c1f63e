import Catalog
import CatalogStores
import Foundation
import Testing
import TestSupport

/// `contains` through SQLite's trigram index (migration "5-fts-trigram") and PostgreSQL's
/// pg_trgm index answers exactly what a brute-force scan of the rows answers: ASCII case
/// folding, `%`, `_`, `\` and quotes as plain characters, non-ASCII compared byte for byte,
/// needles of one and two characters (no trigram: the scanning path).
@Suite struct TrigramContainsTests {
    static let element = SearchElement(name: "object", kind: .text, keys: ["OBJECT", "TARGNAME"], match: .contains)
    static let parser = SearchQueryParser(configuration: SearchConfiguration(elements: [element]))

    /// Texts built from pieces that exercise the folding and escaping rules.
    static let pieces = ["NGC", "ngc", "Crab", "nebula", "Nebula", "50%", "5_0", "a\\b", "O'Brien", "\"q\"", "Ångström",
                         "ångström", "e\u{301}", "é", "中文", "m31", "M31", " ", "-", "x"]
    static let needles = ["n", "N", "%", "_", "'", "\\", "å", "Å", "é", "ab", "31", "ng", "c ", "%_",
                          "ngc", "NGC", "nEbUlA", "ula", "50%", "0%", "5_0", "_0", "a\\b", "o'b", "O'BRIEN", "\"q\"",
                          "ångs", "Ångs", "ÅNGSTRÖM", "ngström", "e\u{301}", "中文", "m31 ", "zzz", "crab nebula", "% x"]

    /// `needle` in `text` with ASCII letters folded, compared as UTF-8 bytes (not Swift's
    /// canonical-equivalence `contains`): the rule the stores implement.
    static func bruteForceContains(_ text: String, _ needle: String) -> Bool {
        func folded(_ s: String) -> [UInt8] { s.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 } }
        let hay = folded(text), pin = folded(needle)
        guard pin.count <= hay.count else { return false }
        if pin.isEmpty { return true }
        for start in 0...(hay.count - pin.count) where hay[start..<(start + pin.count)].elementsEqual(pin) { return true }
        return false
    }

    static func record(_ i: Int) -> DatasetRecord {
        DatasetRecord(uid: "", name: "d\(i)", location: "/trgm/\(i)", access: DatasetRule(ownerGroup: nil, accessGroups: [], isPublic: true),
                      status: .ready, created: 0, updated: 0)
    }

    /// A seeded corpus: per dataset an OBJECT, maybe a TARGNAME, and string rows of other keys
    /// (which must not match) — the texts by dataset index.
    static func corpus(seed: UInt64, count: Int) -> [[MetaRow]] {
        var rng = SplitMix64(seed: seed)
        func text() -> String { (0..<Int.random(in: 1...4, using: &rng)).map { _ in pieces.randomElement(using: &rng) ?? "x" }.joined() }
        return (0..<count).map { _ in
            var rows = [MetaRow(scope: "hdu0", key: "OBJECT", type: .string, text: text())]
            if Bool.random(using: &rng) { rows.append(MetaRow(scope: "hdu1", key: "TARGNAME", type: .string, text: text())) }
            rows.append(MetaRow(scope: "hdu0", key: "COMMENT", type: .string, text: text()))
            rows.append(MetaRow(scope: "hdu0", key: "OBJECT", index: 1, type: .number, number: 31, text: "31"))
            return rows
        }
    }

    static func expected(_ rows: [Int: [MetaRow]], _ uids: [Int: String], needle: String) -> [String] {
        rows.keys.sorted().filter { i in
            rows[i, default: []].contains { ["OBJECT", "TARGNAME"].contains($0.key) && $0.type == .string && bruteForceContains($0.text, needle) }
        }.compactMap { uids[$0] }
    }

    static func answer(_ store: any CatalogStore, needle: String) async throws -> [String] {
        try await allPages(store, parser: parser, [(name: "object", value: needle)], pageSize: 40)
    }

    @Test(arguments: CatalogBackend.allCases)
    func containsEqualsABruteForceScanThroughInsertReplaceAndDelete(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            var rows = [Int: [MetaRow]](), uids = [Int: String]()
            for (i, r) in Self.corpus(seed: 28, count: 80).enumerated() {
                let stored = try await store.record(Self.record(i), harvest: Harvest(rows: r, document: [:], name: "d\(i)"))
                rows[i] = r; uids[i] = stored.uid
            }
            func check(_ stage: String) async throws {
                for needle in Self.needles {
                    let got = try await Self.answer(store, needle: needle)
                    #expect(got == Self.expected(rows, uids, needle: needle), "\(stage): contains \(needle)")
                }
            }
            try await check("inserted")
            // A new harvest replaces rows (the index must forget the old text), a removed
            // dataset takes its rows along (ON DELETE CASCADE).
            for (i, r) in Self.corpus(seed: 29, count: 20).enumerated() {
                _ = try await store.record(Self.record(i * 3), harvest: Harvest(rows: r, document: [:], name: "d\(i * 3)"))
                rows[i * 3] = r
            }
            for i in [1, 2, 5] {
                _ = try await catalog.sql("DELETE FROM dataset WHERE uid = '\(uids[i] ?? "")'")
                rows[i] = nil
            }
            try await check("replaced and deleted")
        }
    }

    /// Needles of three characters or more take the trigram index on SQLite (the plan's outer
    /// loop is the FTS5 table), shorter ones the scan of the key's folded strings.
    @Test func sqliteNeedlesOfThreeCharactersUseTheTrigramIndex() throws {
        for (needle, indexed) in [("neb", true), ("ÅNG", true), ("50%", true), ("ab", false), ("é", false), ("e\u{301}", false)] {
            let statement = SQLBuilder.search(try Self.parser.parse([(name: "object", value: needle)]), visibleTo: .everyone, dialect: .sqlite)
            #expect(statement.sql.contains("meta_trgm MATCH") == indexed, "\(needle)")
        }
        #expect(CatalogMigrations.trigramRowidStride > Int64(MetaRow.maxRowsPerDataset))
    }

    /// A catalogue written before migration 5 gets its rows indexed when it is migrated.
    @Test func theMigrationIndexesRowsWrittenBeforeIt() async throws {
        try await CatalogBackend.sqlite.withCatalog { catalog in
            let store = catalog.store
            var rows = [Int: [MetaRow]](), uids = [Int: String]()
            for (i, r) in Self.corpus(seed: 30, count: 30).enumerated() {
                uids[i] = try await store.record(Self.record(i), harvest: Harvest(rows: r, document: [:], name: "d\(i)")).uid
                rows[i] = r
            }
            try await store.close()
            // Back to the schema of migration 4 (no index, no triggers), rows kept.
            _ = try await catalog.sql("""
                DROP TRIGGER meta_trgm_ai; DROP TRIGGER meta_trgm_ad; DROP TRIGGER meta_trgm_au; DROP TABLE meta_trgm;
                DELETE FROM grdb_migrations WHERE identifier = '5-fts-trigram';
                """)
            let again = try await catalog.openAgain()
            defer { Task { try? await again.close() } }
            for needle in ["ngc", "nebula", "50%", "ångström", "o'brien"] {
                let expected = Self.expected(rows, uids, needle: needle)
                #expect(!expected.isEmpty, "\(needle) is in the corpus")
                #expect(try await Self.answer(again, needle: needle) == expected, "contains \(needle)")
            }
        }
    }
}
