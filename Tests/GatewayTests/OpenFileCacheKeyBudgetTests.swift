import Foundation
import Testing
@testable import Gateway

/// `OpenFileCache`: the bytes its keys may take, misses included.
@Suite struct OpenFileCacheKeyBudgetTests {
    @Test func missesUnderLongKeysStayWithinTheKeyBudget() throws {
        let folder = NSTemporaryDirectory() + "tessera-cachebytes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = try FileObjectSource(path: folder)
        let cache = OpenFileCache(lifetime: .seconds(60), capacity: 4096, keyBytesCapacity: 100_000)
        let now = ContinuousClock.now
        for i in 0..<1000 {
            let lease = try cache.lease(source, root: "r", key: String(repeating: "m", count: 1000) + "\(i)", now: now)
            lease.endTransfer()
        }
        #expect(cache.cachedKeyBytes <= 100_000)
    }
}
