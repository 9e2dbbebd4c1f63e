import Foundation
@testable import Render
import Storage
import Testing
import ZarrCore

/// `subtract=`'s computed backgrounds kept in memory: a second render of the same source
/// reuses them (and draws the same bytes), another source version is a new key, and the
/// bound in bytes holds, least recently used first out.
@Suite struct BackgroundCacheTests {
    func image(_ store: MemoryStore, path: String, seed: UInt16) throws -> RenderImage {
        let l0 = (0..<(2 * 32 * 32)).map { UInt16(truncatingIfNeeded: ($0 * 7 + Int(seed)) % 997) }
        let l1 = (0..<(2 * 16 * 16)).map { UInt16(truncatingIfNeeded: ($0 * 3 + Int(seed)) % 501) }
        _ = try TestImages.write(store: store, path: path, axes: ["c", "y", "x"], dataType: .uint16,
                                 levels: [([2, 32, 32], TestImages.bytes(l0)), ([2, 16, 16], TestImages.bytes(l1))])
        return try RenderImage.open(store: store, path: path)
    }

    func plan(_ query: String, _ image: RenderImage, background: RenderImage? = nil) throws -> RenderPlan {
        try RenderPlan(image: image, request: RenderRequest(parameters: RenderQuery.pairs(fromQuery: query)), limits: RenderLimits(),
                       background: background)
    }

    @Test func aSecondRenderReusesTheSmoothBackground() throws {
        let store = MemoryStore()
        let img = try image(store, path: "img", seed: 1)
        let cache = BackgroundCache(maxBytes: 1 << 20)
        let reuse = BackgroundReuse(cache: cache, source: "img v1")
        let p = try plan("subtract=median:24&format=npy&negative=keep", img)
        let plain = try Renderer.render(p, concurrency: 1)
        let first = try Renderer.render(p, concurrency: 1, backgrounds: reuse)
        #expect(cache.counts.misses == 2 && cache.counts.hits == 0 && cache.counts.entries == 2)
        let second = try Renderer.render(p, concurrency: 1, backgrounds: reuse)
        #expect(cache.counts.hits == 2 && cache.counts.misses == 2)
        #expect(first.bytes == plain.bytes && second.bytes == plain.bytes)
        // Another window or format of the same plane: the same background.
        _ = try Renderer.render(try plan("subtract=median:24&format=png&window=0,500", img), concurrency: 1, backgrounds: reuse)
        #expect(cache.counts.hits == 4)
        // Another source version (a changed image): computed again.
        _ = try Renderer.render(p, concurrency: 1, backgrounds: BackgroundReuse(cache: cache, source: "img v2"))
        #expect(cache.counts.misses == 4)
    }

    @Test func aReplacedBackgroundImageIsSeen() throws {
        let store = MemoryStore()
        let img = try image(store, path: "img", seed: 1)
        let cache = BackgroundCache(maxBytes: 1 << 20)
        let query = "subtract=image:lab/dark&format=npy&negative=keep"
        let darkA = try image(store, path: "dark", seed: 5)
        let a = try Renderer.render(try plan(query, img, background: darkA), concurrency: 1,
                                    backgrounds: BackgroundReuse(cache: cache, source: "dark v1"))
        let again = try Renderer.render(try plan(query, img, background: darkA), concurrency: 1,
                                        backgrounds: BackgroundReuse(cache: cache, source: "dark v1"))
        #expect(cache.counts.hits == 2 && again.bytes == a.bytes)
        // The dark frame rewritten: its documents' versions change, so does the key.
        let darkB = try image(store, path: "dark", seed: 300)
        let b = try Renderer.render(try plan(query, img, background: darkB), concurrency: 1,
                                    backgrounds: BackgroundReuse(cache: cache, source: "dark v2"))
        let uncached = try Renderer.render(try plan(query, img, background: darkB), concurrency: 1)
        #expect(b.bytes == uncached.bytes && b.bytes != a.bytes)
    }

    @Test func theBoundInBytesHoldsOldestOut() {
        let cache = BackgroundCache(maxBytes: 3 * 8 * 100)
        for key in ["a", "b", "c"] { _ = cache.plane(key) { [Double](repeating: 1, count: 100) } }
        _ = cache.plane("a") { [] }          // a used: b is now the oldest
        _ = cache.plane("d") { [Double](repeating: 2, count: 100) }
        #expect(cache.counts.entries == 3 && cache.counts.bytes == 2400)
        var computed = false
        _ = cache.plane("b") { computed = true; return [Double](repeating: 1, count: 100) }
        #expect(computed)
        #expect(cache.plane("a") { [] }.count == 100)
        // Larger than the whole bound: returned, never kept.
        #expect(cache.plane("huge") { [Double](repeating: 0, count: 1000) }.count == 1000)
        #expect(cache.counts.entries == 3)
    }
}
