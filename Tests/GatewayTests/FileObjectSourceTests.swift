import Foundation
import Storage
import Testing
import ZarrCore
@testable import Gateway

@Suite final class FileObjectSourceTests {
    let folder: String
    deinit { try? FileManager.default.removeItem(atPath: folder) }

    init() throws {
        folder = NSTemporaryDirectory() + "tessera-gateway-\(UUID().uuidString)"
        let store = FileStore(path: folder + "/root")
        try store.set("a/0.0", Array(repeating: 7, count: 100))
        try store.set("secret-twin", [1, 2, 3])
        try FileStore(path: folder).set("outside.txt", Array("outside".utf8))
        symlink(folder + "/outside.txt", folder + "/root/escape")
        symlink("../outside.txt", folder + "/root/a/relative-escape")
        symlink("0.0", folder + "/root/a/inside-link")
        symlink(folder, folder + "/root/dir-escape")
    }

    @Test func servesObjectsWithValidatorsAndRanges() async throws {
        let source = try FileObjectSource(path: folder + "/root")
        let object = try #require(try await source.open("a/0.0"))
        #expect(object.size == 100)
        var st = stat()
        #expect(stat(folder + "/root/a/0.0", &st) == 0)
        let nanos = Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
        // The identity is a keyed hash of device and inode (issue 14.8: tags exposed inodes).
        let identity = OpenFile.hidden(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        #expect(object.validators.etag == "\"\(String(identity, radix: 16))-64-\(String(nanos, radix: 16))\"")
        #expect(!object.validators.etag.hasPrefix("\"\(String(st.st_ino, radix: 16))-"))
        #expect(OpenFile.etag(inode: 0, size: 0xABC, nanos: UInt64.max) == "\"0-abc-ffffffffffffffff\"")
        #expect(try await source.open("a/missing") == nil)
        #expect(try await source.open("a") == nil) // folders are not objects
    }

    @Test func neverLeavesTheRoot() async throws {
        let source = try FileObjectSource(path: folder + "/root")
        #expect(try await source.open("escape") == nil)
        #expect(try await source.open("a/relative-escape") == nil)
        #expect(try await source.open("dir-escape/outside.txt") == nil)
        #expect(try await source.listFolder("dir-escape") == nil)
        // A link that stays inside the root is followed only where openat2 exists; either
        // way it never yields bytes from elsewhere.
        if let inside = try await source.open("a/inside-link") { #expect(inside.size == 100) }
    }

    @Test func listsFoldersWithoutFollowingLinks() async throws {
        let source = try FileObjectSource(path: folder + "/root")
        let listing = try #require(try await source.listFolder(""))
        #expect(listing.folders == ["a"])
        #expect(listing.objects.map(\.key) == ["secret-twin"])
    }
}

@Suite struct ConsolidatedMetadataTests {
    @Test func v2ListsEveryNodeButNoChunks() async throws {
        let folder = NSTemporaryDirectory() + "tessera-zmeta-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = FileStore(path: folder)
        try store.set(".zgroup", Array(#"{"zarr_format":2}"#.utf8))
        try store.set(".zattrs", Array(#"{"multiscales":[]}"#.utf8))
        try store.set("0/.zarray", Array(#"{"zarr_format":2,"shape":[4]}"#.utf8))
        try store.set("0/0", [1, 2, 3])
        try store.set("labels/.zgroup", Array(#"{"zarr_format":2}"#.utf8))
        try store.set("labels/x/.zarray", Array(#"{"zarr_format":2,"shape":[2]}"#.utf8))
        let bytes = try #require(try await ConsolidatedMetadata.v2(store, group: "", limits: .defaults))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let metadata = try #require(doc["metadata"] as? [String: Any])
        #expect(Set(metadata.keys) == [".zgroup", ".zattrs", "0/.zarray", "labels/.zgroup", "labels/x/.zarray"])
        #expect(doc["zarr_consolidated_format"] as? Int == 1)
        #expect(try await ConsolidatedMetadata.v2(store, group: "0", limits: .defaults) == nil)
    }

    @Test func v3InlinesDescendantsFlat() async throws {
        let folder = NSTemporaryDirectory() + "tessera-zmeta3-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = FileStore(path: folder)
        let group = Array(#"{"zarr_format":3,"node_type":"group","attributes":{}}"#.utf8)
        try store.set("zarr.json", group)
        try store.set("s0/zarr.json", Array(#"{"zarr_format":3,"node_type":"array","shape":[4]}"#.utf8))
        try store.set("s0/c/0", [1])
        try store.set("labels/zarr.json", group)
        try store.set("labels/m/zarr.json", Array(#"{"zarr_format":3,"node_type":"array","shape":[2]}"#.utf8))
        let bytes = try #require(try await ConsolidatedMetadata.v3Inline(store, group: "", document: group, limits: .defaults))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let consolidated = try #require(doc["consolidated_metadata"] as? [String: Any])
        #expect(consolidated["kind"] as? String == "inline")
        let metadata = try #require(consolidated["metadata"] as? [String: Any])
        #expect(Set(metadata.keys) == ["s0", "labels", "labels/m"])
        // An array's document is never rewritten.
        let array = Array(#"{"zarr_format":3,"node_type":"array"}"#.utf8)
        #expect(try await ConsolidatedMetadata.v3Inline(store, group: "s0", document: array, limits: .defaults) == nil)
    }
}
