import Foundation
import Testing
@testable import Render

/// The thumbnail/quicklook disk cache: found by its material, bounded and evicted least
/// recently used first, kept across restarts, and never answering a wrong picture.
@Suite struct RenderCacheTests {
    func folder() -> String {
        let path = NSTemporaryDirectory() + "render-cache-\(UUID().uuidString)"
        return path
    }

    @Test func storesAndFindsByMaterial() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try RenderCache(directory: dir, maxBytes: 1 << 20)
        #expect(cache.get("a") == nil)
        #expect(cache.put("a", contentType: "image/png", bytes: [1, 2, 3]))
        #expect(cache.get("a") == RenderCache.Entry(contentType: "image/png", bytes: [1, 2, 3]))
        #expect(cache.get("b") == nil)
    }

    @Test func evictsTheLeastRecentlyUsedPastTheBound() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let body = [UInt8](repeating: 7, count: 1000)
        let entry = RenderCache.encode(material: "m0", contentType: "image/png", bytes: body).count
        // Room for three entries; the fourth pushes out until 90 % remain (two entries).
        let cache = try RenderCache(directory: dir, maxBytes: 3 * entry + 10)
        for name in ["m0", "m1", "m2"] { cache.put(name, contentType: "image/png", bytes: body) }
        _ = cache.get("m0") // m1 is now the least recently used
        cache.put("m3", contentType: "image/png", bytes: body)
        #expect(cache.get("m1") == nil)
        #expect(cache.get("m2") == nil)
        #expect(cache.get("m0") != nil)
        #expect(cache.get("m3") != nil)
        #expect(cache.usage.bytes <= 3 * entry + 10)
    }

    @Test func refusesBodiesOverTheEntryBound() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try RenderCache(directory: dir, maxBytes: 1 << 20, maxEntryBytes: 10)
        #expect(!cache.put("big", contentType: "image/png", bytes: [UInt8](repeating: 0, count: 11)))
        #expect(cache.get("big") == nil)
    }

    @Test func aRestartKeepsTheEntries() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RenderCache(directory: dir).put("kept", contentType: "image/jpeg", bytes: [9, 9])
        let reopened = try RenderCache(directory: dir)
        #expect(reopened.usage.entries == 1)
        #expect(reopened.get("kept") == RenderCache.Entry(contentType: "image/jpeg", bytes: [9, 9]))
    }

    @Test func aTornEntryIsAMissAndIsRemoved() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try RenderCache(directory: dir)
        cache.put("torn", contentType: "image/png", bytes: [UInt8](repeating: 1, count: 100))
        let path = cache.path(RenderCache.name("torn"))
        let data = try #require(FileManager.default.contents(atPath: path))
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: path))
        #expect(cache.get("torn") == nil)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(cache.usage.entries == 0)
    }

    @Test func anotherMaterialUnderTheSameNameIsAMiss() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try RenderCache(directory: dir)
        cache.put("one", contentType: "image/png", bytes: [1])
        // Stand-in for a hash collision: "two"'s file holds "one"'s entry.
        let one = cache.path(RenderCache.name("one")), two = cache.path(RenderCache.name("two"))
        try FileManager.default.createDirectory(atPath: (two as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: one, toPath: two)
        let reopened = try RenderCache(directory: dir)
        #expect(reopened.get("two") == nil)
        #expect(reopened.get("one") == RenderCache.Entry(contentType: "image/png", bytes: [1]))
    }

    @Test func concurrentStoresOfOneKeyLeaveOneWholeEntry() async throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try RenderCache(directory: dir)
        let body = [UInt8](repeating: 3, count: 50_000)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<16 { group.addTask { cache.put("same", contentType: "image/png", bytes: body) } }
        }
        #expect(cache.get("same")?.bytes == body)
        #expect(cache.usage.entries == 1)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }
}
