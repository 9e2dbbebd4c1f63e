import Foundation
import Testing
@testable import Gateway

/// `NestedRoots`: unit checks behind issue 14 and 21.6; the conformance file
/// Tests/Conformance/serve/test_gateway_hardening.py replays the probe against a live server.
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
