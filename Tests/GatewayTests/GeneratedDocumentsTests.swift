import Synchronization
import Testing
@testable import Gateway

/// `GeneratedDocuments`: the cache of consolidated documents the gateway generates.
@Suite struct GeneratedDocumentsTests {
    @Test func concurrentRequestsShareOneGeneration() async throws {
        let runs = Counter()
        let documents = GeneratedDocuments(onGenerate: { runs.bump() })
        try await withThrowingTaskGroup(of: MemoryObject?.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try await documents.document("root\0.zmetadata") {
                        try await Task.sleep(for: .milliseconds(100))
                        return Array("{}".utf8)
                    }
                }
            }
            for try await object in group { #expect(object?.size == 2) }
        }
        #expect(runs.value == 1)
    }

    @Test func staysWithinItsBytes() async throws {
        let documents = GeneratedDocuments(maximumEntries: 1000, maximumBytes: 10_000)
        for i in 0..<100 {
            _ = try await documents.document(String(repeating: "k", count: 900) + "\(i)") { nil }
        }
        #expect(documents.cachedBytes <= 10_000)
    }
}

/// A counter for closures that must be Sendable.
private final class Counter: Sendable {
    private let storage = Mutex(0)
    func bump() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}
