import Catalog
import Foundation
import Storage
import Testing
import ZarrCore
@testable import Gateway

/// The catalogue's per-dataset rule on the object routes, from constructed snapshots.
@Suite struct DatasetAccessIndexTests {
    static let roots: [(name: String, location: String)] = [("data", "/srv/nonexistent-tessera/data"), ("s3", "s3://bucket/ngff")]
    static let publicRule = DatasetRule(isPublic: true)
    static let labRule = DatasetRule(ownerGroup: "lab", accessGroups: ["guests"])

    func index(_ entries: [AccessEntry], version: Int64 = 1) -> DatasetAccessIndex {
        DatasetAccessIndex(snapshot: AccessSnapshot(version: version, entries: entries), roots: Self.roots)
    }

    func entry(_ uid: String, _ location: String, _ rule: DatasetRule, _ status: DatasetStatus = .ready) -> AccessEntry {
        AccessEntry(uid: uid, root: nil, location: location, rule: rule, status: status)
    }

    var sample: DatasetAccessIndex {
        index([
            entry("pub", "/srv/nonexistent-tessera/data/open/a.ome.zarr", Self.publicRule),
            entry("lab", "/srv/nonexistent-tessera/data/lab/b.ome.zarr", Self.labRule),
            entry("conv", "/srv/nonexistent-tessera/data/lab/c.ome.zarr", Self.publicRule, .converting),
            entry("s3lab", "s3://bucket/ngff/x/y.zarr", Self.labRule),
            entry("elsewhere", "/other/place.zarr", Self.publicRule),
        ])
    }

    @Test func locationsMatchRootsByPathOrBucketPrefix() {
        let i = sample
        #expect(i.containing("open/a.ome.zarr/0/zarr.json", root: "data").map(\.uid) == ["pub"])
        #expect(i.containing("open/a.ome.zarr", root: "data").map(\.uid) == ["pub"])
        #expect(i.containing("open/a.ome.zarr.bak/zarr.json", root: "data").isEmpty) // a prefix is whole segments
        #expect(i.containing("x/y.zarr/.zattrs", root: "s3").map(\.uid) == ["s3lab"])
        #expect(i.containing("x/y.zarr/.zattrs", root: "data").isEmpty)
        #expect(!i.roots.values.contains { $0.datasets.values.contains { $0.uid == "elsewhere" } })
    }

    @Test func effectiveAccessIsTheRootRuleAndTheDatasetRule() {
        let i = sample
        let lab = Viewer.member(user: "u", groups: ["lab"]), guest = Viewer.member(user: nil, groups: ["guests"])
        let other = Viewer.member(user: nil, groups: ["other"])
        let key = "lab/b.ome.zarr/0/c/0/0"
        for mode in [RootConfiguration.DatasetsMode.open, .catalog] {
            #expect(i.decide(root: "data", key: key, mode: mode, viewer: lab) == .restricted)
            #expect(i.decide(root: "data", key: key, mode: mode, viewer: guest) == .restricted)
            #expect(i.decide(root: "data", key: key, mode: mode, viewer: .everyone) == .restricted)
            #expect(i.decide(root: "data", key: key, mode: mode, viewer: other) == .hidden)
            #expect(i.decide(root: "data", key: key, mode: mode, viewer: .anonymous) == .hidden)
            #expect(i.decide(root: "data", key: "open/a.ome.zarr/zarr.json", mode: mode, viewer: .anonymous) == .open)
        }
        // Outside every dataset: the root rule alone (open), or missing (catalog).
        #expect(i.decide(root: "data", key: "loose/file.zarr/zarr.json", mode: .open, viewer: .anonymous) == .open)
        #expect(i.decide(root: "data", key: "loose/file.zarr/zarr.json", mode: .catalog, viewer: .everyone) == .missing)
        // A dataset not ready yet: missing under catalog, its rule under open.
        #expect(i.decide(root: "data", key: "lab/c.ome.zarr/zarr.json", mode: .catalog, viewer: .everyone) == .missing)
        #expect(i.decide(root: "data", key: "lab/c.ome.zarr/zarr.json", mode: .open, viewer: .anonymous) == .restricted)
        // Group documents above datasets stay readable in a catalog root; other keys there do not.
        #expect(i.decide(root: "data", key: "zarr.json", mode: .catalog, viewer: .anonymous) == .open)
        #expect(i.decide(root: "data", key: "lab/.zattrs", mode: .catalog, viewer: .anonymous) == .open)
        #expect(i.decide(root: "data", key: "lab/notes.txt", mode: .catalog, viewer: .everyone) == .missing)
        #expect(i.decide(root: "data", key: "elsewhere/zarr.json", mode: .catalog, viewer: .everyone) == .missing)
    }

    @Test func nestedDatasetsEachApply() {
        let i = index([
            entry("outer", "/srv/nonexistent-tessera/data/coll.zarr", Self.publicRule),
            entry("inner", "/srv/nonexistent-tessera/data/coll.zarr/1", Self.labRule),
        ])
        #expect(i.containing("coll.zarr/1/0/zarr.json", root: "data").map(\.uid) == ["outer", "inner"])
        #expect(i.decide(root: "data", key: "coll.zarr/1/0/zarr.json", mode: .open, viewer: .anonymous) == .hidden)
        #expect(i.decide(root: "data", key: "coll.zarr/0/zarr.json", mode: .open, viewer: .anonymous) == .open)
    }

    @Test func consolidatedAndListingsAboveDatasets() {
        let i = sample
        #expect(i.hidesBelow("", root: "data", viewer: .anonymous))
        #expect(i.hidesBelow("lab", root: "data", viewer: .member(user: nil, groups: ["lab"]))) // c is converting
        #expect(!i.hidesBelow("open", root: "data", viewer: .anonymous))
        #expect(!i.hidesBelow("open/a.ome.zarr", root: "data", viewer: .anonymous)) // inside, not above
        let scope = DatasetScope(index: i, root: "data", mode: .catalog, viewer: .anonymous)
        let listing = scope.filter(FolderListing(objects: [StoreEntry(key: "zarr.json", size: 3), StoreEntry(key: "x.txt", size: 1)],
                                                 folders: ["open", "lab", "loose"]), folder: "")
        #expect(listing.folders == ["open"])
        #expect(listing.objects.map(\.key) == ["zarr.json"])
        let member = DatasetScope(index: i, root: "data", mode: .open, viewer: .member(user: nil, groups: ["lab"]))
        #expect(member.filter(FolderListing(folders: ["b.ome.zarr", "c.ome.zarr", "d"]), folder: "lab").folders == ["b.ome.zarr", "c.ome.zarr", "d"])
        let anonymousOpen = DatasetScope(index: i, root: "data", mode: .open, viewer: .anonymous)
        #expect(anonymousOpen.filter(FolderListing(folders: ["b.ome.zarr", "c.ome.zarr", "d"]), folder: "lab").folders == ["c.ome.zarr", "d"])
        #expect(anonymousOpen.filter(FolderListing(folders: ["open", "lab", "loose"]), folder: "").folders == ["open", "lab", "loose"])
        let onlyHidden = DatasetScope(index: index([entry("lab", "/srv/nonexistent-tessera/data/lab/b.ome.zarr", Self.labRule)]),
                                      root: "data", mode: .open, viewer: .anonymous)
        #expect(onlyHidden.filter(FolderListing(folders: ["lab", "loose"]), folder: "").folders == ["loose"])
    }

    @Test func fastPathFlagsOnlyRootsWithRestrictedDatasets() {
        let i = index([entry("pub", "/srv/nonexistent-tessera/data/open/a.ome.zarr", Self.publicRule)])
        #expect(!i.hasRestricted("data"))
        #expect(sample.hasRestricted("data"))
        #expect(sample.hasRestricted("s3"))
    }

    /// A lookup only hashes the key's prefixes up to the deepest dataset: a hostile key of
    /// thousands of segments costs no more than that depth.
    @Test func lookupIsBoundedByTheDeepestDataset() {
        let i = sample
        let deep = Array(repeating: "s", count: 5000).joined(separator: "/")
        #expect(i.containing(deep, root: "data").isEmpty)
        #expect(i.roots["data"]?.maxDepth == 2)
    }
}

/// The refresher swaps a new index in when the store's access version moves.
@Suite struct DatasetAccessRefresherTests {
    final class FakeStore: CatalogStore, @unchecked Sendable {
        let lock = NSLock()
        var snapshot = AccessSnapshot(version: 1, entries: [])
        var snapshotsRead = 0
        func set(_ s: AccessSnapshot) { lock.withLock { snapshot = s } }
        func migrate() async throws {}
        func record(_ dataset: DatasetRecord, harvest: Harvest?) async throws -> DatasetRecord { dataset }
        func dataset(uid: String, visibleTo viewer: Viewer) async throws -> DatasetRecord? { nil }
        func dataset(location: String) async throws -> DatasetRecord? { nil }
        func metadataDocument(uid: String, visibleTo viewer: Viewer) async throws -> JSONValue? { nil }
        func search(_ query: SearchQuery, visibleTo viewer: Viewer) async throws -> SearchPage { SearchPage(datasets: [], next: nil) }
        func distinctValues(keys: [String], column: DatasetColumn?, visibleTo viewer: Viewer, limit: Int) async throws -> [String] { [] }
        func changeAccess(_ selector: DatasetSelector, _ change: AccessChange) async throws -> Int { 0 }
        func accessSnapshot() async throws -> AccessSnapshot { lock.withLock { snapshotsRead += 1; return snapshot } }
        func accessVersion() async throws -> Int64 { lock.withLock { snapshot.version } }
        func close() async throws {}
    }

    @Test func readsTheSnapshotOnlyWhenTheVersionMoves() async throws {
        let store = FakeStore()
        let location = "/srv/nonexistent-tessera/data/a.zarr"
        store.set(AccessSnapshot(version: 1, entries: [AccessEntry(uid: "a", root: nil, location: location,
                                                                   rule: DatasetRule(isPublic: true), status: .ready)]))
        let refresher = DatasetAccessRefresher(store: store, roots: [("data", "/srv/nonexistent-tessera/data")],
                                               interval: .milliseconds(10), onError: { _ in })
        try await refresher.refresh(force: true)
        #expect(refresher.index.decide(root: "data", key: "a.zarr/zarr.json", mode: .open, viewer: .anonymous) == .open)
        try await refresher.refresh()
        #expect(store.lock.withLock { store.snapshotsRead } == 1)
        store.set(AccessSnapshot(version: 2, entries: [AccessEntry(uid: "a", root: nil, location: location,
                                                                   rule: DatasetRule(ownerGroup: "lab"), status: .ready)]))
        let task = Task { await refresher.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(5)
        while refresher.index.version != 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(refresher.index.decide(root: "data", key: "a.zarr/zarr.json", mode: .open, viewer: .anonymous) == .hidden)
    }
}
