@testable import Catalog
import CatalogPostgres
import CatalogSQLite
import Foundation
import Testing

/// Must-show 2 at the store level: the corpus of `Tests/Conformance/catalog/corpus.py` (520
/// datasets with known headers) is written straight into SQLite and PostgreSQL with the
/// `sqlite3` / `psql` tools, following the schema (rows exactly as the harvest makes them),
/// and every query of the corpus, for four viewers, must return exactly the uids Python
/// computed — paging with `limit=7` through `next` (no duplicate, no gap), in sort order, and
/// identically on both stores. The HTTP version (`test_search.py`) follows once
/// `/api/datasets` is on main.
@Suite(.serialized) struct SearchParityTests {
    struct Corpus: Decodable {
        var configuration: SearchConfiguration
        var viewers: [ViewerSpec]
        var datasets: [DatasetSpec]
        var queries: [QuerySpec]
    }
    struct ViewerSpec: Decodable {
        var name: String
        var kind: String
        var groups: [String]?
        var viewer: Viewer {
            switch kind {
            case "anonymous": .anonymous
            case "everyone": .everyone
            default: .member(user: nil, groups: Set(groups ?? []))
            }
        }
    }
    struct RowSpec: Decodable {
        var scope: String, key: String, vtype: Int, num: Double?, str: String, seq: Int, idx: Int
    }
    struct DatasetSpec: Decodable {
        var uid: String, name: String, location: String, format: String
        var owner_group: String?
        var groups: [String]
        var is_public: Bool
        var status: String
        var obs_time: Double?
        var rows: [RowSpec]
    }
    struct QuerySpec: Decodable {
        var element: String
        var params: [[String]]
        var sort: String
        var expected: [String: [String]]
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func loadCorpus(into dir: URL) async throws -> Corpus {
        let out = dir.appendingPathComponent("corpus.json")
        _ = try await runTool("python3", [repository.appendingPathComponent("Tests/Conformance/catalog/corpus.py").path, out.path])
        return try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: out))
    }

    static func literal(_ s: String?) -> String {
        guard let s else { return "NULL" }
        return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func literal(_ d: Double?) -> String {
        guard let d else { return "NULL" }
        return "\(d)"
    }

    /// The corpus as SQL INSERTs in the schema of migration 1 (one transaction).
    static func script(_ corpus: Corpus, dialect: SQLDialect) -> String {
        var sql = ["BEGIN;"]
        for (i, d) in corpus.datasets.enumerated() {
            let id = i + 1
            let isPublic = dialect == .sqlite ? (d.is_public ? "1" : "0") : (d.is_public ? "TRUE" : "FALSE")
            sql.append("INSERT INTO dataset(id, uid, name, location, format, owner_group, is_public, status, obs_time, created, updated) VALUES (\(id), \(literal(d.uid)), \(literal(d.name)), \(literal(d.location)), \(literal(d.format)), \(literal(d.owner_group)), \(isPublic), \(literal(d.status)), \(literal(d.obs_time)), 0, 0);")
            for g in d.groups { sql.append("INSERT INTO dataset_group(dataset_id, grp) VALUES (\(id), \(literal(g)));") }
            var rows = [MetaRow]()
            for r in d.rows {
                sql.append("INSERT INTO meta(dataset_id, seq, scope, key, idx, vtype, num, str) VALUES (\(id), \(r.seq), \(literal(r.scope)), \(literal(r.key)), \(r.idx), \(r.vtype), \(literal(r.num)), \(literal(r.str)));")
                rows.append(MetaRow(scope: r.scope, key: r.key, index: r.idx, type: MetaType(rawValue: r.vtype) ?? .string, number: r.num, text: r.str))
            }
            sql.append("INSERT INTO dataset_text(dataset_id, body) VALUES (\(id), \(literal(FreeText.body(name: d.name, rows: rows))));")
        }
        if dialect == .postgres { sql.append("SELECT setval('dataset_id_seq', \(corpus.datasets.count));") }
        sql.append("COMMIT;")
        return sql.joined(separator: "\n")
    }

    /// Every page of one query, following `next`; the uids in answer order.
    static func allPages(_ store: any CatalogStore, parser: SearchQueryParser, params: [(name: String, value: String)],
                         viewer: Viewer) async throws -> [String] {
        var uids = [String]()
        var after: String?
        for _ in 0..<200 {
            var p = params
            if let after { p.append((name: "after", value: after)) }
            let query = try parser.parse(p)
            let page = try await store.search(query, visibleTo: viewer)
            #expect(page.datasets.count <= 7)
            uids += page.datasets.map(\.uid)
            guard let next = page.next else { return uids }
            #expect(page.datasets.count == 7, "a page before the last is full")
            after = next.encoded
        }
        Issue.record("more than 200 pages")
        return uids
    }

    @Test func corpusAnswersExactlyOnBothStores() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("search-parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = try await Self.loadCorpus(into: dir)
        try corpus.configuration.validate()
        #expect(corpus.datasets.count >= 500)
        let parser = SearchQueryParser(configuration: corpus.configuration)

        // SQLite: the store's own migration, then the corpus through the sqlite3 tool.
        let path = dir.appendingPathComponent("catalog.sqlite").path
        let sqlite = try SQLiteCatalog(path: path)
        try await sqlite.migrate()
        let sqliteScript = dir.appendingPathComponent("sqlite.sql")
        try Self.script(corpus, dialect: .sqlite).write(to: sqliteScript, atomically: true, encoding: .utf8)
        _ = try await runTool("sqlite3", ["-batch", path, ".read \(sqliteScript.path)"])
        try await sqlite.optimize()
        var stores: [(String, any CatalogStore)] = [("sqlite", sqlite)]

        // PostgreSQL: a fresh database, migration 1 and the corpus through psql.
        var pgCleanup: (() async -> Void)?
        if ProcessInfo.processInfo.environment["TESSERA_TEST_POSTGRES"] != nil || ProcessInfo.processInfo.environment["CI"] == "true" {
            let server = try PostgresTestServer.fromEnvironment()
            let database = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            _ = try await server.psql(database: "postgres", "CREATE DATABASE \(database)")
            pgCleanup = { _ = try? await server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
            let schema = CatalogMigrations.all(.postgres).flatMap(\.statements).map { $0 + ";" }.joined(separator: "\n")
            let pgScript = dir.appendingPathComponent("pg.sql")
            try (schema + "\n" + Self.script(corpus, dialect: .postgres)).write(to: pgScript, atomically: true, encoding: .utf8)
            _ = try await runTool("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server.host, "-p", String(server.port),
                                     "-U", server.user, "-d", database, "-f", pgScript.path])
            let pg = PostgresCatalog(server.settings(database: database))
            try await pg.optimize()
            stores.append(("postgres", pg))
        } else {
            print("note: TESSERA_TEST_POSTGRES is not set; the search corpus runs on SQLite only")
        }
        // The PostgreSQL database is dropped also when a check throws (no `defer`: dropping awaits).
        do {
            try await Self.checkAnswers(corpus, parser: parser, stores: stores, sqlite: sqlite)
        } catch {
            await pgCleanup?()
            throw error
        }
        for (_, store) in stores { try await store.close() }
        await pgCleanup?()
    }

    static func checkAnswers(_ corpus: Corpus, parser: SearchQueryParser, stores: [(String, any CatalogStore)],
                             sqlite: any CatalogStore) async throws {

        var checked = 0
        for q in corpus.queries {
            let params = q.params.map { (name: $0[0], value: $0[1]) } + [(name: "sort", value: q.sort), (name: "limit", value: "7")]
            for v in corpus.viewers {
                var answers = [String: [String]]()
                for (name, store) in stores {
                    let uids = try await Self.allPages(store, parser: parser, params: params, viewer: v.viewer)
                    #expect(Set(uids).count == uids.count, "\(name) \(q.element) \(q.params) \(v.name): a uid twice across pages")
                    #expect(uids.sorted() == q.expected[v.name], "\(name) \(q.element) \(q.params) as \(v.name)")
                    answers[name] = uids
                    checked += 1
                }
                if let a = answers["sqlite"], let b = answers["postgres"] {
                    #expect(a == b, "\(q.element) \(q.params) sort \(q.sort) as \(v.name): the stores differ in order")
                }
            }
        }
        #expect(checked >= corpus.queries.count * corpus.viewers.count)
        // The sorts are what they say: name bytewise, observed ascending with unknown last.
        let byName = try await Self.allPages(sqlite, parser: parser, params: [(name: "sort", value: "name"), (name: "limit", value: "7")], viewer: .everyone)
        let names = Dictionary(uniqueKeysWithValues: corpus.datasets.map { ($0.uid, $0.name) })
        #expect(byName.compactMap { names[$0] } == byName.compactMap { names[$0] }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })

        // Select choices come from visible datasets only.
        for (_, store) in stores {
            let anonymous = try await store.distinctValues(keys: ["FILTER", "FILTER1"], column: nil, visibleTo: .anonymous, limit: 100)
            let expected = Set(corpus.datasets.filter { $0.status == "ready" && $0.is_public }
                .flatMap { $0.rows.filter { ["FILTER", "FILTER1"].contains($0.key) }.map(\.str) })
            #expect(anonymous == expected.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            let formats = try await store.distinctValues(keys: [], column: .format, visibleTo: .everyone, limit: 100)
            #expect(formats == ["fits", "hdf5", "tiff"])
        }
    }
}
