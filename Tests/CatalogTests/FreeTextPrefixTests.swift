import Catalog
import CatalogStores
import Foundation
import Testing

/// Free text after migration "6-fts-prefix" (SQLite's FTS5 prefix indexes): a catalogue
/// written before it answers every `q` exactly as a scan of the datasets' words does —
/// prefixes of one to three characters (served by the new indexes) and longer ones — and
/// rows written after it are indexed too (the triggers of migration 1 feed the new table).
@Suite struct FreeTextPrefixTests {
    static let parser = SearchQueryParser(configuration: SearchConfiguration(elements: []))
    static let queries = ["obs 1", "obs 42", "1", "4", "ngc 7", "n", "ng", "ngc", "orion 3", "o 9", "zz"]

    static func record(_ i: Int) -> DatasetRecord {
        DatasetRecord(uid: "", name: "obs \(i)", location: "/prefix/\(i)",
                      access: DatasetRule(ownerGroup: nil, accessGroups: [], isPublic: true), status: .ready)
    }

    static func rows(_ i: Int) -> [MetaRow] {
        [MetaRow(scope: "hdu0", key: "OBJECT", type: .string, text: i % 3 == 0 ? "NGC \(i * 7)" : "Orion \(i * 13)")]
    }

    /// The datasets (by index) whose words hold, for every query token, a word starting with it.
    static func expected(_ words: [Int: [String]], _ q: String) -> [Int] {
        let tokens = FreeText.tokens(q)
        return words.keys.sorted().filter { i in tokens.allSatisfy { t in words[i, default: []].contains { $0.hasPrefix(t) } } }
    }

    static func answer(_ store: any CatalogStore, _ q: String) async throws -> [String] {
        try await allPages(store, parser: parser, [(name: "q", value: q)], pageSize: 25)
    }

    @Test func aCatalogueWrittenBeforeTheMigrationAnswersAsAScan() async throws {
        try await CatalogBackend.sqlite.withCatalog { catalog in
            var words = [Int: [String]](), uids = [Int: String]()
            for i in 0..<120 {
                let r = Self.rows(i)
                uids[i] = try await catalog.store.record(Self.record(i), harvest: Harvest(rows: r, document: [:], name: "obs \(i)")).uid
                words[i] = FreeText.body(name: "obs \(i)", rows: r).split(separator: " ").map(String.init)
            }
            try await catalog.store.close()
            // Back to migration 5's table (no prefix index), rows kept.
            _ = try await catalog.sql("""
                DROP TABLE dataset_fts;
                CREATE VIRTUAL TABLE dataset_fts USING fts5(body, content='dataset_text', content_rowid='dataset_id',
                  tokenize='unicode61 remove_diacritics 0');
                INSERT INTO dataset_fts(dataset_fts) VALUES ('rebuild');
                DELETE FROM grdb_migrations WHERE identifier = '6-fts-prefix';
                """)
            let again = try await catalog.openAgain()
            defer { Task { try? await again.close() } }
            let table = try await catalog.sql("SELECT sql FROM sqlite_master WHERE name = 'dataset_fts'")
            #expect(table.contains("prefix='1 2 3'"), "\(table)")
            // One more dataset, written through the triggers into the new table.
            let r = Self.rows(120)
            uids[120] = try await again.record(Self.record(120), harvest: Harvest(rows: r, document: [:], name: "obs 120")).uid
            words[120] = FreeText.body(name: "obs 120", rows: r).split(separator: " ").map(String.init)
            for q in Self.queries {
                let want = Self.expected(words, q).compactMap { uids[$0] }
                #expect(try await Self.answer(again, q) == want, "q=\(q)")
            }
            #expect(!Self.expected(words, "obs 1").isEmpty && Self.expected(words, "zz").isEmpty)
        }
    }
}
