import Foundation
import Testing
import TestSupport
import Storage
@testable import ZarrCore

@Suite struct HierarchyWalkTests {
    static let unbounded = WalkLimits(documents: 10_000, bytes: 16 << 20, time: .seconds(60))
    static let v3Group = Array(#"{"zarr_format":3,"node_type":"group","attributes":{}}"#.utf8)

    func v2Store() throws -> MemoryStore {
        let store = MemoryStore()
        try store.set(".zgroup", Array(#"{"zarr_format":2}"#.utf8))
        try store.set(".zattrs", Array(#"{"multiscales":[]}"#.utf8))
        try store.set("0/.zarray", Array(#"{"zarr_format":2,"shape":[4]}"#.utf8))
        try store.set("0/.zattrs", Array(#"{"a":1}"#.utf8))
        try store.set("0/0", [1, 2, 3])
        try store.set("labels/.zgroup", Array(#"{"zarr_format":2}"#.utf8))
        try store.set("labels/x/.zarray", Array(#"{"zarr_format":2,"shape":[2]}"#.utf8))
        // Not nodes: a folder without metadata, and one whose .zarray is not JSON.
        try store.set("notes/readme.txt", Array("hi".utf8))
        try store.set("broken/.zarray", Array("{".utf8))
        return store
    }

    @Test func defaultFolderListingIsOneLevel() throws {
        let listing = try #require(try v2Store().listFolder("labels")).sorted()
        #expect(listing.objects.map(\.key) == [".zgroup"])
        #expect(listing.folders == ["x"])
        #expect(try v2Store().listFolder("nope") == nil)
    }

    @Test func v2ListsEveryNodeButNoChunks() throws {
        let store = RecordingStore(try v2Store())
        let doc = try #require(try ConsolidatedMetadataBuilder.v2(store, group: "", limits: Self.unbounded))
        #expect(doc["zarr_consolidated_format"] == 1)
        let metadata = try #require(doc["metadata"]?.objectValue)
        #expect(Set(metadata.keys) == [".zgroup", ".zattrs", "0/.zarray", "0/.zattrs", "labels/.zgroup", "labels/x/.zarray"])
        #expect(metadata["0/.zattrs"] == ["a": 1])
        // Only groups' folders are listed: an array's folder of chunks is never read.
        #expect(store.listedFolders == ["", "labels"])
        // An array is no group; a nested group is one.
        #expect(try ConsolidatedMetadataBuilder.v2(store, group: "0", limits: Self.unbounded) == nil)
        let labels = try #require(try ConsolidatedMetadataBuilder.v2(store, group: "labels", limits: Self.unbounded))
        #expect(Set(labels["metadata"]?.objectValue?.keys ?? [:].keys) == [".zgroup", "x/.zarray"])
    }

    @Test func v3InlinesDescendantsFlat() throws {
        let store = MemoryStore()
        try store.set("zarr.json", Self.v3Group)
        try store.set("s0/zarr.json", Array(#"{"zarr_format":3,"node_type":"array","shape":[4]}"#.utf8))
        try store.set("s0/c/0", [1])
        try store.set("labels/zarr.json", Self.v3Group)
        try store.set("labels/m/zarr.json", Array(#"{"zarr_format":3,"node_type":"array","shape":[2]}"#.utf8))
        try store.set("v2/.zarray", Array(#"{"zarr_format":2,"shape":[2]}"#.utf8))
        let doc = try #require(try ConsolidatedMetadataBuilder.v3Inline(store, group: "", document: Self.v3Group, limits: Self.unbounded))
        let consolidated = try #require(doc["consolidated_metadata"])
        #expect(consolidated["kind"] == "inline" && consolidated["must_understand"] == false)
        let metadata = try #require(consolidated["metadata"]?.objectValue)
        #expect(Set(metadata.keys) == ["s0", "labels", "labels/m"])
        #expect(metadata["labels"]?["consolidated_metadata"] == .null)
        #expect(metadata["s0"]?["shape"] == [4])
        // An array's document, and a group already consolidated, are not rewritten.
        let array = Array(#"{"zarr_format":3,"node_type":"array"}"#.utf8)
        #expect(try ConsolidatedMetadataBuilder.v3Inline(store, group: "s0", document: array, limits: Self.unbounded) == nil)
        let done = Array(#"{"zarr_format":3,"node_type":"group","consolidated_metadata":{"kind":"inline","metadata":{}}}"#.utf8)
        #expect(try ConsolidatedMetadataBuilder.v3Inline(store, group: "", document: done, limits: Self.unbounded) == nil)
    }

    @Test func aWalkPastItsBoundsStops() throws {
        let store = MemoryStore()
        try store.set(".zgroup", Array(#"{"zarr_format":2}"#.utf8))
        for i in 0..<50 { try store.set("g\(i)/.zgroup", Array(#"{"zarr_format":2}"#.utf8)) }
        #expect(throws: WalkTooCostly.self) {
            try ConsolidatedMetadataBuilder.v2(store, group: "", limits: WalkLimits(documents: 40, bytes: 1 << 20, time: .seconds(60)))
        }
        #expect(throws: WalkTooCostly.self) {
            try ConsolidatedMetadataBuilder.v2(store, group: "", limits: WalkLimits(documents: 1000, bytes: 500, time: .seconds(60)))
        }
        #expect(try ConsolidatedMetadataBuilder.v2(store, group: "", limits: Self.unbounded) != nil)
        // A child document over the per-document bound is never read.
        try store.set("big/.zgroup", Array(repeating: 32, count: 2 << 20))
        #expect(throws: WalkTooCostly.self) { try ConsolidatedMetadataBuilder.v2(store, group: "", limits: Self.unbounded) }
    }

    /// A folder store whose `a/zarr.json` links to a JSON file outside the root, and whose
    /// `b` links to a folder outside it: neither is read into the consolidated metadata.
    @Test func linksOutOfAFolderStoreAreNotFollowed() throws {
        let root = TemporaryFolder(), outside = TemporaryFolder()
        try outside.store.set("secret/zarr.json", Array(#"{"zarr_format":3,"node_type":"array","secret":"leaked"}"#.utf8))
        let store = root.store
        try store.set("zarr.json", Self.v3Group)
        try store.set("s0/zarr.json", Array(#"{"zarr_format":3,"node_type":"array","shape":[4]}"#.utf8))
        try FileManager.default.createDirectory(at: root.url.appendingPathComponent("a"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: root.url.appendingPathComponent("a/zarr.json"),
                                                   withDestinationURL: outside.url.appendingPathComponent("secret/zarr.json"))
        try FileManager.default.createSymbolicLink(at: root.url.appendingPathComponent("b"),
                                                   withDestinationURL: outside.url.appendingPathComponent("secret"))
        #expect(try store.listFolder("a")?.objects.isEmpty == true)
        #expect(try store.entries(named: ["zarr.json"], in: "a").isEmpty)
        #expect(try store.entries(named: ["zarr.json", "missing"], in: "s0").map(\.key) == ["zarr.json"])
        #expect(try store.entries(named: ["zarr.json"], in: "b").isEmpty)
        #expect(try store.listFolder("")?.sorted().folders == ["a", "s0"])
        #expect(try store.listFolder("b") == nil)
        let doc = try #require(try ConsolidatedMetadataBuilder.v3Inline(store, group: "", document: Self.v3Group, limits: Self.unbounded))
        #expect(doc["consolidated_metadata"]?["metadata"]?.objectValue?.keys.sorted() == ["s0"])
        #expect(!String(decoding: doc.compactSerialized(), as: UTF8.self).contains("leaked"))
    }
}

