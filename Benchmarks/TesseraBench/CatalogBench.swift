import Catalog
import CatalogPostgres
import CatalogSQLite
import CatalogStores
import Foundation

// Search latency through the store (no HTTP): `Benchmarks/catalog_bench.py` fills a catalog
// with synthetic datasets, then runs
//   tessera-bench catalog-schema sqlite|postgres   (migration 1's statements, for sqlite3/psql)
//   tessera-bench catalog URL QUERIES              (p50/p99 per element type, one JSON line each)

func catalogSchema(_ args: [String]) throws {
    guard args.count == 2, let dialect: SQLDialect = args[1] == "sqlite" ? .sqlite : args[1] == "postgres" ? .postgres : nil else {
        throw BenchError(description: "usage: tessera-bench catalog-schema sqlite|postgres")
    }
    for migration in CatalogMigrations.all(dialect) {
        for statement in migration.statements { print(statement + ";") }
    }
}

/// The elements the bench queries (the synthetic catalog has these keys).
let benchElements = SearchConfiguration(elements: [
    SearchElement(name: "object", kind: .text, keys: ["OBJECT", "TARGNAME"], match: .contains),
    SearchElement(name: "objprefix", kind: .text, keys: ["OBJECT", "TARGNAME"], match: .prefix),
    SearchElement(name: "objexact", kind: .text, keys: ["OBJECT", "TARGNAME"], match: .exact),
    SearchElement(name: "exptime", kind: .range, keys: ["EXPTIME", "EXPOSURE"]),
    SearchElement(name: "observed", kind: .dateRange, dateKeys: [DateKey(key: "DATE-OBS"), DateKey(key: "MJD-OBS", scale: .mjd)]),
    SearchElement(name: "filter", kind: .select, keys: ["FILTER"]),
    SearchElement(name: "position", kind: .cone, ra: ["RA"], dec: ["DEC"], maxRadius: 10),
    SearchElement(name: "format", kind: .select, column: .format),
])

func catalogBench(_ args: [String]) async throws {
    guard args.count >= 2 else { throw BenchError(description: "usage: tessera-bench catalog URL [QUERIES]") }
    let queries = args.count > 2 ? Int(args[2]) ?? 200 : 200
    let store: any CatalogStore
    let analyzeStart = Date()
    switch try CatalogLocation(parsing: args[1]) {
    case let .sqlite(path):
        let s = try SQLiteCatalog(path: path); try await s.optimize(); store = s
    case let .postgres(settings):
        let p = PostgresCatalog(settings); try await p.optimize(); store = p
    }
    print("{\"tool\":\"catalog\",\"op\":\"analyze\",\"seconds\":\(Date().timeIntervalSince(analyzeStart))}")
    let parser = SearchQueryParser(configuration: benchElements)
    var rng = SystemRandomNumberGenerator()
    let objects = ["ngc", "m31", "orion", "nebula", "crab", "eta", "sgr", "messier"]
    let kinds: [(String, () -> [(name: String, value: String)])] = [
        ("text-contains", { [("object", objects.randomElement(using: &rng)!)] }),
        ("text-prefix", { [("objprefix", ["NGC", "M3", "Orion", "eta C"].randomElement(using: &rng)!)] }),
        ("text-exact", { [("objexact", "NGC \(Int.random(in: 1...9999, using: &rng))")] }),
        ("range", { let lo = Double.random(in: 0...590, using: &rng); return [("exptime.min", String(format: "%.2f", lo)), ("exptime.max", String(format: "%.2f", lo + 10))] }),
        ("dateRange", { let y = Int.random(in: 2019...2023, using: &rng), m = Int.random(in: 1...12, using: &rng)
            return [("observed.from", String(format: "%04d-%02d-01", y, m)), ("observed.to", String(format: "%04d-%02d-08", y, m))] }),
        ("select", { [("filter", ["V", "R", "B", "Ha"].randomElement(using: &rng)!)] }),
        ("cone-1deg", { [("position.ra", String(format: "%.3f", Double.random(in: 0..<360, using: &rng))),
                         ("position.dec", String(format: "%.3f", Double.random(in: -80...80, using: &rng))), ("position.radius", "1")] }),
        ("free-text", { [("q", objects.randomElement(using: &rng)!)] }),
        ("column-select", { [("format", "hdf5")] }),
        ("combined", { [("filter", "V"), ("exptime.min", "100"), ("exptime.max", "200"), ("q", "ngc")] }),
    ]
    let viewer = Viewer.member(user: nil, groups: ["alpha"])
    for (name, make) in kinds {
        var times = [Double]()
        var found = 0
        for _ in 0..<queries {
            let query = try parser.parse(make() + [("limit", "50")])
            let start = DispatchTime.now().uptimeNanoseconds
            let page = try await store.search(query, visibleTo: viewer)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            found += page.datasets.count
        }
        times.sort()
        let p50 = times[times.count / 2], p99 = times[min(times.count - 1, Int(Double(times.count) * 0.99))]
        print("{\"tool\":\"catalog\",\"element\":\"\(name)\",\"queries\":\(queries),\"p50_ms\":\(String(format: "%.2f", p50)),\"p99_ms\":\(String(format: "%.2f", p99)),\"mean_rows\":\(found / max(1, queries))}")
    }
    try await store.close()
}
