import Storage
import Testing
@testable import ZarrCore

/// `Hierarchy.discover` reads its listing a page at a time and keeps a tally per folder,
/// never the listing: its counts must be those of the whole listing attributed at once.
@Suite struct HierarchyListingTests {
    static let group = Array(#"{"zarr_format":3,"node_type":"group","attributes":{}}"#.utf8)
    static func array(_ n: Int) -> [UInt8] {
        Array(#"{"zarr_format":3,"node_type":"array","shape":[\#(n)],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[1]}},"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"fill_value":0,"codecs":[{"name":"bytes"}]}"#.utf8)
    }

    /// The attribution as it was done before pages: every key of the whole listing to the
    /// deepest node folder above it.
    static func wholeListing(_ listing: [StoreEntry], prefix: String) -> [String: (Int, Int)] {
        let nodes = Hierarchy.nodePaths(listing.map { String($0.key.dropFirst(prefix.count)) }).union([""])
        var counts = [String: (Int, Int)]()
        for entry in listing {
            var owner = entry.key.dropFirst(prefix.count).split(separator: "/").dropLast().map(String.init)
            while !owner.isEmpty && !nodes.contains(owner.joined(separator: "/")) { owner.removeLast() }
            let (n, b) = counts[owner.joined(separator: "/")] ?? (0, 0)
            counts[owner.joined(separator: "/")] = (n + 1, b + max(0, entry.size))
        }
        return counts
    }

    @Test func aStoreOfManyPagesCountsAsItsWholeListing() throws {
        let folder = TemporaryFolder()
        let store = folder.store
        try store.set("zarr.json", Self.group)
        try store.set("notes.txt", [1, 2, 3])
        try store.set("0/zarr.json", Self.array(1700))
        for i in 0..<1700 { try store.set("0/c/\(i)", [UInt8](repeating: 1, count: i % 5)) }
        try store.set("labels/zarr.json", Self.group)
        try store.set("labels/cells/zarr.json", Self.array(600))
        for i in 0..<600 { try store.set("labels/cells/c/\(i)", [2, 2]) }
        try store.set("labels/stray/file", [9])
        var pages = [(Int, Int)]()
        let hierarchy = try Hierarchy.discover(store: store, root: "") { pages.append(($0, $1)) }

        let listing = try store.list(prefix: "")
        let expected = Self.wholeListing(listing, prefix: "")
        #expect(pages.count == 3, "2,306 objects at 1,000 a page")
        #expect(pages.map(\.0) == pages.map(\.0).sorted() && pages.last?.0 == listing.count)
        #expect(hierarchy.entries.map(\.path) == ["", "0", "labels", "labels/cells"])
        for e in hierarchy.entries {
            let (n, b) = expected[e.path] ?? (0, 0)
            #expect(e.objectCount == n && e.storedBytes == b, "\(e.path)")
        }
        #expect(hierarchy.totalObjects == listing.count && pages.last?.1 == hierarchy.totalBytes)
        // Below the root, keys are taken relative to it.
        let labels = try Hierarchy.discover(store: store, root: "labels")
        #expect(labels.entries.map(\.path) == ["", "cells"])
        #expect(labels.entries.map(\.objectCount) == [2, 601])
    }

    /// Odd keys (empty segments, a trailing slash, a node document as a folder name) are
    /// attributed as the whole listing did, whatever the page boundaries.
    @Test(arguments: [1, 2, 3, 100])
    func oddKeysTallyAsTheWholeListing(pageSize: Int) {
        let keys = ["p/zarr.json", "p/a//b/zarr.json", "p/a//b/c/0", "p/a/b/c/1", "p/x/zarr.json/", "p/x/y",
                    "p/.zarray", "p/0", "p//0", "p/q/.zgroup", "p/q/r/s/t", "p/q/r/", "p/"]
        let listing = keys.enumerated().map { StoreEntry(key: $1, size: $0 == 3 ? -5 : $0) }
        var tally = FolderTally()
        for start in stride(from: 0, to: listing.count, by: pageSize) {
            tally.add(Array(listing[start..<min(start + pageSize, listing.count)]), prefix: "p/")
        }
        let expected = Self.wholeListing(listing, prefix: "p/")
        let nodes = Hierarchy.nodePaths(keys.map { String($0.dropFirst(2)) }).union([""])
        #expect(tally.nodePaths.union([""]) == nodes)
        let got = tally.perNode(nodes)
        #expect(Set(got.keys) == Set(expected.keys))
        for (path, (n, b)) in expected { #expect(got[path]?.objects == n && got[path]?.bytes == b, "\(path)") }
    }
}
