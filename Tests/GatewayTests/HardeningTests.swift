import Foundation
import Testing
@testable import Gateway
import ZarrCore

/// Unit checks behind issue 14 and 21.6; the conformance file
/// Tests/Conformance/test_gateway_hardening.py replays the probe against a live server.
@Suite struct NestedRootsTests {
    private func roots(_ list: [(String, String, RootConfiguration.Access?)]) -> [RootConfiguration] {
        list.map { RootConfiguration(name: $0.0, location: $0.1, access: $0.2) }
    }

    @Test func refusesARootServedUnderWeakerRulesInsideAnother() {
        let cases: [[(String, String, RootConfiguration.Access?)]] = [
            [("top", "/srv/data", nil), ("priv", "/srv/data/priv", .groups(["lab"]))],
            [("priv", "/srv/data/priv", .groups(["lab"])), ("top", "/srv/data/", .everyone)],
            [("top", "/srv/data", .groups(["lab", "guests"])), ("priv", "/srv/data/priv/x", .groups(["lab"]))],
            [("a", "/srv/data", .everyone), ("b", "/srv/data", .groups(["lab"]))], // the same folder twice
            [("top", "s3://b/data", .everyone), ("priv", "s3://b/data/priv", .groups(["lab"]))],
            [("top", "s3://b", .everyone), ("priv", "s3://b/priv/", .groups(["lab"]))],
        ]
        for list in cases {
            #expect(throws: ConfigurationError.self) { try NestedRoots.check(roots(list)) }
        }
    }

    @Test func acceptsNestingThatCannotWeakenARule() throws {
        try NestedRoots.check(roots([("top", "/srv/data", .groups(["lab"])), ("pub", "/srv/data/pub", .everyone)]))
        try NestedRoots.check(roots([("top", "/srv/data", .groups(["lab"])), ("sub", "/srv/data/s", .groups(["lab", "x"]))]))
        try NestedRoots.check(roots([("a", "/srv/data", .everyone), ("b", "/srv/database", .groups(["lab"]))]))
        try NestedRoots.check(roots([("a", "s3://b/data", .everyone), ("b", "s3://b/database", .groups(["lab"]))]))
        try NestedRoots.check(roots([("a", "s3://b1/data", .everyone), ("b", "s3://b2/data/x", .groups(["lab"]))]))
        try NestedRoots.check(roots([("a", "/data", .everyone), ("b", "s3://data/x", .groups(["lab"]))]))
    }

    @Test func followsSymlinks() throws {
        let base = NSTemporaryDirectory() + "tessera-nested-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base + "/data/priv", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: base + "/link", withDestinationPath: base + "/data")
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(throws: ConfigurationError.self) {
            try NestedRoots.check(roots([("top", base + "/link", nil), ("priv", base + "/data/priv", .groups(["lab"]))]))
        }
    }
}

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

import Synchronization

@Suite struct ConsolidationLimitsTests {
    private func tree(groups: Int, childBytes: Int = 20) throws -> String {
        let folder = NSTemporaryDirectory() + "tessera-limits-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(#"{"zarr_format":2}"#.utf8).write(to: URL(fileURLWithPath: folder + "/.zgroup"))
        for i in 0..<groups {
            try fm.createDirectory(atPath: folder + "/g\(i)", withIntermediateDirectories: true)
            let padding = String(repeating: " ", count: max(0, childBytes - 18))
            try Data((#"{"zarr_format":2}"# + padding).utf8).write(to: URL(fileURLWithPath: folder + "/g\(i)/.zgroup"))
        }
        return folder
    }

    @Test func aWalkPastItsDocumentBoundGeneratesNothing() async throws {
        let store = FileStore(path: try tree(groups: 50))
        let small = ConsolidatedMetadata.Limits(documents: 40, bytes: 1 << 20, time: .seconds(10))
        #expect(try await ConsolidatedMetadata.v2(store, group: "", limits: small) == nil)
        #expect(try await ConsolidatedMetadata.v2(store, group: "", limits: .defaults) != nil)
    }

    @Test func aHugeChildDocumentIsNeverRead() async throws {
        let store = FileStore(path: try tree(groups: 2, childBytes: 2 << 20))
        #expect(try await ConsolidatedMetadata.v2(store, group: "", limits: .defaults) == nil)
    }
}

@Suite struct ConnectionLimitsTests {
    @Test func keepsDescriptorsInReserveAtEveryLimit() {
        for limit in [128, 256, 1024, 4096, 65_536, 1 << 20] {
            let l = ConnectionLimits(configuration: GatewayConfiguration(), descriptorLimit: limit, openAtStart: 12, loops: 2)
            // Connections (a socket and a file each), cached files and the reserve fit.
            #expect(l.connectionsHard * 2 + l.cachedFilesPerLoop * 2 + l.reserve <= max(limit, 64) + 32, "limit \(limit)")
            #expect(l.connections < l.connectionsHard && l.reserve >= 32 + 12)
        }
        var configuration = GatewayConfiguration()
        configuration.maxConnections = 10
        #expect(ConnectionLimits(configuration: configuration, descriptorLimit: 4096, openAtStart: 12, loops: 2).connections == 10)
        #expect(ConnectionLimits(configuration: GatewayConfiguration(), descriptorLimit: 4096, openAtStart: 12, loops: 2).header == .seconds(60))
    }
}

@Suite struct OpenFileCacheBytesTests {
    @Test func missesUnderLongKeysStayWithinTheKeyBudget() throws {
        let folder = NSTemporaryDirectory() + "tessera-cachebytes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
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
