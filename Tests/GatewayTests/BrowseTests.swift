import Foundation
import Storage
import Synchronization
import Testing
import ZarrCore
@testable import Gateway

@Suite struct BrowseTests {
    /// Only a plain host name or address (with a port) makes absolute viewer links; anything
    /// a client could use to point them elsewhere or break out of an attribute gives none.
    @Test func baseComesFromAPlainHostOnly() {
        #expect(BrowseRoute.base(host: "127.0.0.1:8080") == "http://127.0.0.1:8080")
        #expect(BrowseRoute.base(host: "imaging.example.org") == "http://imaging.example.org")
        #expect(BrowseRoute.base(host: "[::1]:8080") == "http://[::1]:8080")
        for bad in [nil, "", "a b", "evil.org/x", "user@evil.org", "a:b:c", "host:", "host:123456", "\"><script>", "[::1", "[zz]:80",
                    "a.org:80/", "a.org\r\nX: y"] as [String?] {
            #expect(BrowseRoute.base(host: bad) == nil, "\(bad ?? "nil")")
        }
    }

    @Test func neuroglancerLinkNamesTheZarrFormat() {
        var image = BrowseImage(root: "lab", path: "a b.ome.zarr", name: "A", version: "0.4")
        image.axes = "yx"
        let v2 = BrowseRoute.neuroglancerLink(image, dataURL: "http://h:1/lab/a%20b.ome.zarr/")
        #expect(v2.hasPrefix("/viewer/v/tessera/#!"))
        #expect(v2.contains("zarr2%3A%2F%2Fhttp%3A%2F%2Fh%3A1%2Flab%2Fa%2520b.ome.zarr%2F"))
        #expect(!v2.contains("\"") && !v2.contains("<") && !v2.contains(" "))
        let v3 = BrowseRoute.neuroglancerLink(BrowseImage(root: "lab", path: "x", name: "X", version: "0.5"), dataURL: "http://h/lab/x/")
        #expect(v3.contains("zarr3%3A%2F%2F"))
    }

    @Test func hashedAssetNamesAreImmutable() {
        #expect(StaticAssets.isHashed("main.8608d1fc21b22785.js"))
        #expect(StaticAssets.isHashed("09f21dcf7b4f13e8.wasm"))
        #expect(!StaticAssets.isHashed("index.html"))
        #expect(!StaticAssets.isHashed("main.bundle.js"))
        #expect(StaticAssets.contentType("a.wasm") == "application/wasm")
        #expect(StaticAssets.contentType("a.js") == "text/javascript; charset=utf-8")
    }

    @Test func shellQuotingSurvivesQuotes() {
        #expect(BrowseRoute.shellQuoted("http://h/a'b/") == "'http://h/a'\\''b/'")
    }
}

/// A burst of first requests for `/` (or a search) walks each root once: the others wait
/// for that walk (single flight) instead of each walking the whole hierarchy.
@Suite struct BrowseIndexFlightTests {
    @Test func concurrentFirstRequestsWalkARootOnce() async throws {
        let walks = Walks()
        let index = BrowseIndex(limits: WalkLimits(documents: 100, bytes: 1 << 20, time: .seconds(5)), lifetime: .seconds(60)) { root, _, _ in
            walks.add(root)
            usleep(200_000) // long enough for every request to arrive while it runs
            return .init(images: [BrowseImage(root: root, path: "a", name: "a", version: "0.5")], stopped: nil, made: .now)
        }
        let store = MemoryStore()
        let found = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<24 {
                group.addTask { try await index.images(root: n % 3 == 0 ? "other" : "lab", store: store).images.count }
            }
            return try await group.reduce(0, +)
        }
        #expect(found == 24)
        #expect(walks.count("lab") == 1)
        #expect(walks.count("other") == 1)
        // Fresh: served from the cache, no walk.
        _ = try await index.images(root: "lab", store: store)
        #expect(walks.count("lab") == 1)
    }

    @Test func aStaleIndexIsWalkedAgain() async throws {
        let walks = Walks()
        let index = BrowseIndex(limits: WalkLimits(documents: 100, bytes: 1 << 20, time: .seconds(5)), lifetime: .zero) { root, _, _ in
            walks.add(root)
            return .init(images: [], stopped: nil, made: .now)
        }
        _ = try await index.images(root: "lab", store: MemoryStore())
        _ = try await index.images(root: "lab", store: MemoryStore())
        #expect(walks.count("lab") == 2)
    }
}

private final class Walks: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ root: String) { counts.withLock { $0[root, default: 0] += 1 } }
    func count(_ root: String) -> Int { counts.withLock { $0[root] ?? 0 } }
}
