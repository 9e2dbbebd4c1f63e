import Catalog
import CatalogStores
import Foundation
import Testing
import ZarrCore

/// The store methods every backend must answer alike (search has its own suites).
@Suite struct StoreTests {
    static func fullRecord(location: String = "/data/ngff/m31.ome.zarr") -> DatasetRecord {
        DatasetRecord(
            uid: "", name: "M31 field Ångström", root: "ngff", location: location,
            sourcePath: "/raw/m31.fits", sourcePart: "hdu1", format: "fits",
            sourceBytes: 123_456_789_012, storedBytes: 98_765, checksum: "crc32c:0badf00d:123456789012",
            fileModified: 1_700_000_000.25, observed: 1_614_834_367.5,
            dimensions: Dimensions(shape: [1, 3, 2048, 4096], axes: ["t", "c", "y", "x"], dataType: "uint16",
                                   physical: [nil, PhysicalSize(size: 1, unit: nil), PhysicalSize(size: 0.25, unit: "micrometer"),
                                              PhysicalSize(size: 0.25, unit: "micrometer")]),
            access: DatasetRule(ownerGroup: "owners", accessGroups: ["readers", "guests"], isPublic: false),
            uploader: "ana", status: .ready, error: nil, created: 1_700_000_100.5, updated: 1_700_000_200.75)
    }

    static let rows = [
        MetaRow(scope: "hdu0", key: "SIMPLE", type: .bool, number: 1, text: "T"),
        MetaRow(scope: "hdu0", key: "OBJECT", type: .string, text: "M31 field"),
        MetaRow(scope: "hdu0", key: "DATE-OBS", type: .date, number: 1_614_834_367, text: "2021-03-04T05:06:07"),
        MetaRow(scope: "hdu0", key: "HISTORY", index: 0, type: .string, text: "first"),
        MetaRow(scope: "hdu0", key: "HISTORY", index: 1, type: .string, text: "second"),
        MetaRow(scope: "hdu1", key: "EXPTIME", type: .number, number: 30.5, text: "30.5"),
        MetaRow(scope: "hdu1", key: "BIGINT", type: .number, number: nil, text: "18446744073709551615"),
    ]

    static let document: JSONValue = ["dataset": "m31", "scopes": ["hdu0": [["key": "OBJECT", "value": "M31 field"]]],
                                      "big": .uint(18_446_744_073_709_551_615), "n": 1.5]

    static func harvest(_ rows: [MetaRow] = rows, document: JSONValue = document, name: String = "M31 field Ångström") -> Harvest {
        Harvest(rows: rows, document: document, name: name)
    }

    /// The meta rows as stored, in seq order, through the command-line client.
    static func storedRows(_ catalog: TestCatalog, _ id: Int64) async throws -> [String] {
        let out = try await catalog.sql(
            "SELECT seq, scope, key, idx, vtype, coalesce(CAST(num AS TEXT), 'null'), str FROM meta WHERE dataset_id = \(id) ORDER BY seq")
        return out.isEmpty ? [] : out.components(separatedBy: "\n")
    }

    @Test(arguments: CatalogBackend.allCases)
    func everyFieldRoundTrips(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            let given = Self.fullRecord()
            let stored = try await store.record(given, harvest: Self.harvest())
            #expect(stored.id != nil)
            // A new uid is a random UUID v4 in lower case.
            #expect(stored.uid.count == 36 && UUID(uuidString: stored.uid) != nil && stored.uid == stored.uid.lowercased())
            #expect(Array(stored.uid)[14] == "4")
            var expected = given
            expected.id = stored.id
            expected.uid = stored.uid
            #expect(stored == expected)
            #expect(try await store.dataset(uid: stored.uid, visibleTo: .everyone) == expected)
            #expect(try await store.dataset(location: given.location) == expected)
            #expect(try await store.metadataDocument(uid: stored.uid, visibleTo: .everyone) == Self.document)
            let rows = try await Self.storedRows(catalog, try #require(stored.id))
            #expect(rows.count == Self.rows.count)
            #expect(rows.first?.hasPrefix("0|hdu0|SIMPLE|0|3|1") == true)
            #expect(rows.last?.hasSuffix("|hdu1|BIGINT|0|1|null|18446744073709551615") == true)
            #expect(rows[4].hasPrefix("4|hdu0|HISTORY|1|0|null|second"))
            // A record made with a uid keeps it; a minimal record keeps its nils.
            let minimal = DatasetRecord(uid: "given-uid", name: "x", location: "s3://bucket/x.zarr", status: .converting,
                                        created: 1, updated: 2)
            let storedMinimal = try await store.record(minimal, harvest: nil)
            var expectedMinimal = minimal
            expectedMinimal.id = storedMinimal.id
            #expect(storedMinimal == expectedMinimal)
            #expect(try await store.dataset(uid: "given-uid", visibleTo: .everyone) == expectedMinimal)
            #expect(try await store.metadataDocument(uid: "given-uid", visibleTo: .everyone) == .object([:]))
            #expect(try await store.dataset(uid: "missing", visibleTo: .everyone) == nil)
            #expect(try await store.dataset(location: "/nowhere") == nil)
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func recordingTheSameLocationUpdatesInPlace(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            let first = try await store.record(Self.fullRecord(), harvest: Self.harvest())
            var again = Self.fullRecord()
            again.uid = "another-uid"
            again.name = "renamed"
            again.format = "tiff"
            again.dimensions = nil
            again.observed = nil
            again.created = 5
            again.updated = 1_800_000_000
            again.access = DatasetRule(ownerGroup: nil, accessGroups: ["x"], isPublic: true)
            let updated = try await store.record(again, harvest: nil)
            #expect(updated.id == first.id && updated.uid == first.uid && updated.created == first.created)
            var expected = again
            expected.id = first.id; expected.uid = first.uid; expected.created = first.created
            #expect(updated == expected)
            #expect(try await store.dataset(uid: first.uid, visibleTo: .everyone) == expected)
            #expect(try await store.dataset(uid: "another-uid", visibleTo: .everyone) == nil)
            #expect(try await catalog.sql("SELECT count(*) FROM dataset") == "1")
            // Without a harvest the old one stays.
            #expect(try await store.metadataDocument(uid: first.uid, visibleTo: .everyone) == Self.document)
            #expect(try await Self.storedRows(catalog, try #require(first.id)).count == Self.rows.count)
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func aNewHarvestReplacesTheOld(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            let other = try await store.record(Self.fullRecord(location: "/other"), harvest: Self.harvest())
            let first = try await store.record(Self.fullRecord(), harvest: Self.harvest())
            let id = try #require(first.id)
            let newRows = [MetaRow(scope: "/", key: "instrument", type: .string, text: "zebrafish scope"),
                           MetaRow(scope: "/entry", key: "gain", type: .number, number: 2, text: "2")]
            let newDocument: JSONValue = ["scopes": ["/": [["key": "instrument"]]]]
            var record = Self.fullRecord()
            record.name = "zebra"
            _ = try await store.record(record, harvest: Self.harvest(newRows, document: newDocument, name: "zebra"))
            let rows = try await Self.storedRows(catalog, id)
            #expect(rows == ["0|/|instrument|0|0|null|zebrafish scope", "1|/entry|gain|0|1|\(catalog.isSQLite ? "2.0" : "2")|2"])
            #expect(try await store.metadataDocument(uid: first.uid, visibleTo: .everyone) == newDocument)
            #expect(try await catalog.sql("SELECT body FROM dataset_text WHERE dataset_id = \(id)") == "zebra zebrafish scope")
            // The other dataset's harvest is untouched.
            #expect(try await Self.storedRows(catalog, try #require(other.id)).count == Self.rows.count)
            #expect(try await catalog.sql("SELECT count(*) FROM meta") == String(Self.rows.count + 2))
            try await catalog.checkTextIndex()
            // The index finds the new words and no longer the old ones.
            #expect(try await catalog.textMatches("zebrafish") == [id])
            #expect(try await catalog.textMatches("field") == [try #require(other.id)])
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func theTextIndexStaysIntactThroughInsertUpdateAndDelete(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            var ids = [Int64]()
            for i in 0..<5 {
                let rows = [MetaRow(scope: "hdu0", key: "OBJECT", type: .string, text: "target\(i) common")]
                let stored = try await store.record(Self.fullRecord(location: "/d\(i)"), harvest: Self.harvest(rows, name: "n\(i)"))
                ids.append(try #require(stored.id))
            }
            try await catalog.checkTextIndex()
            for i in 0..<5 where i % 2 == 0 {
                let rows = [MetaRow(scope: "hdu0", key: "OBJECT", type: .string, text: "changed\(i)")]
                _ = try await store.record(Self.fullRecord(location: "/d\(i)"), harvest: Self.harvest(rows, name: "n\(i)"))
            }
            try await catalog.checkTextIndex()
            #expect(try await catalog.textMatches("common") == [ids[1], ids[3]])
            _ = try await catalog.sql("DELETE FROM dataset WHERE id = \(ids[1])")
            try await catalog.checkTextIndex()
            #expect(try await catalog.textMatches("common") == [ids[3]])
            #expect(try await catalog.textMatches("changed4") == [ids[4]])
            #expect(try await catalog.sql("SELECT count(*) FROM meta WHERE dataset_id = \(ids[1])") == "0")
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func hiddenIsExactlyLikeMissing(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            let stored = try await store.record(Self.fullRecord(), harvest: Self.harvest())
            let viewers: [(Viewer, Bool)] = [
                (.everyone, true), (.anonymous, false), (.member(user: "a", groups: ["owners"]), true),
                (.member(user: "b", groups: ["guests", "x"]), true), (.member(user: "c", groups: ["x"]), false),
                (.member(user: nil, groups: []), false),
            ]
            for (viewer, visible) in viewers {
                #expect((try await store.dataset(uid: stored.uid, visibleTo: viewer) != nil) == visible, "\(viewer)")
                #expect((try await store.metadataDocument(uid: stored.uid, visibleTo: viewer) != nil) == visible, "\(viewer)")
            }
            _ = try await store.changeAccess(.uid(stored.uid), AccessChange(isPublic: true))
            #expect(try await store.dataset(uid: stored.uid, visibleTo: .anonymous) != nil)
            #expect(try await store.metadataDocument(uid: stored.uid, visibleTo: .anonymous) == Self.document)
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func accessChangesBumpTheVersion(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            #expect(try await store.accessVersion() == 0)
            let a = try await store.record(Self.fullRecord(location: "/a"), harvest: nil)
            #expect(try await store.accessVersion() == 1)
            // The same access and status again: no change, no bump (a new harvest is not access).
            _ = try await store.record(Self.fullRecord(location: "/a"), harvest: Self.harvest())
            #expect(try await store.accessVersion() == 1)
            var converting = Self.fullRecord(location: "/a")
            converting.status = .failed
            converting.error = "cfitsio: END missing"
            _ = try await store.record(converting, harvest: nil)
            #expect(try await store.accessVersion() == 2)

            #expect(try await store.changeAccess(.uid(a.uid), AccessChange(addGroups: ["new"])) == 1)
            #expect(try await store.accessVersion() == 3)
            #expect(try await store.dataset(uid: a.uid, visibleTo: .everyone)?.access.accessGroups == ["readers", "guests", "new"])
            // Granting what is already granted selects one dataset and changes nothing.
            #expect(try await store.changeAccess(.location("/a"), AccessChange(addGroups: ["new"])) == 1)
            #expect(try await store.accessVersion() == 3)
            #expect(try await store.changeAccess(.location("/a"), AccessChange(ownerGroup: .some(nil), removeGroups: ["readers", "absent"],
                                                                              isPublic: true)) == 1)
            #expect(try await store.accessVersion() == 4)
            #expect(try await store.dataset(uid: a.uid, visibleTo: .everyone)?.access
                    == DatasetRule(ownerGroup: nil, accessGroups: ["guests", "new"], isPublic: true))
            #expect(try await store.changeAccess(.uid(a.uid), AccessChange(ownerGroup: "lab")) == 1)
            #expect(try await store.dataset(uid: a.uid, visibleTo: .everyone)?.access.ownerGroup == "lab")
            #expect(try await store.accessVersion() == 5)
            // Nothing selected: zero, no bump.
            #expect(try await store.changeAccess(.uid("missing"), AccessChange(addGroups: ["x"])) == 0)
            #expect(try await store.changeAccess(.location("/missing"), AccessChange(isPublic: true)) == 0)
            #expect(try await store.accessVersion() == 5)
            #expect(try await catalog.sql("SELECT grp FROM dataset_group ORDER BY grp") == "guests\nnew")

            let b = try await store.record(Self.fullRecord(location: "s3://bucket/b"), harvest: nil)
            let snapshot = try await store.accessSnapshot()
            #expect(snapshot.version == 6)
            #expect(snapshot.entries == [
                AccessEntry(uid: a.uid, root: "ngff", location: "/a",
                            rule: DatasetRule(ownerGroup: "lab", accessGroups: ["guests", "new"], isPublic: true), status: .failed),
                AccessEntry(uid: b.uid, root: "ngff", location: "s3://bucket/b", rule: Self.fullRecord().access, status: .ready),
            ])
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func valuesThatDoNotFitAreCut(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            let longKey = String(repeating: "K", count: 255) + "é"          // 257 bytes: é does not fit whole
            let longText = String(repeating: "ß", count: 3000)               // 6000 bytes
            var rows = [MetaRow(scope: "hdu0", key: longKey, type: .string, text: longText),
                        MetaRow(scope: "hdu\0", key: "NUL\0KEY", type: .string, text: "a\0b"),
                        MetaRow(scope: "hdu0", key: "NAN", type: .number, number: .nan, text: "NaN"),
                        MetaRow(scope: "hdu0", key: "INF", type: .number, number: -.infinity, text: "-inf")]
            rows += (0..<(MetaRow.maxRowsPerDataset + 5 - rows.count)).map {
                MetaRow(scope: "hdu1", key: "K\($0 % 7)", index: $0, type: .number, number: Double($0), text: String($0))
            }
            var record = Self.fullRecord()
            record.name = "with\0nul"
            record.observed = .nan
            record.access.accessGroups = ["g\0"]
            let stored = try await store.record(record, harvest: Self.harvest(rows, document: ["nan": .double(.nan)], name: record.name))
            let id = try #require(stored.id)
            #expect(try await catalog.sql("SELECT count(*) FROM meta WHERE dataset_id = \(id)") == String(MetaRow.maxRowsPerDataset))
            #expect(try await catalog.sql("SELECT key FROM meta WHERE dataset_id = \(id) AND seq = 0") == String(repeating: "K", count: 255))
            #expect(try await catalog.sql("SELECT str FROM meta WHERE dataset_id = \(id) AND seq = 0") == String(repeating: "ß", count: 512))
            #expect(try await catalog.sql("SELECT scope || '/' || key || '/' || str FROM meta WHERE dataset_id = \(id) AND seq = 1")
                    == "hdu\u{FFFD}/NUL\u{FFFD}KEY/a\u{FFFD}b")
            #expect(try await catalog.sql("SELECT count(*) FROM meta WHERE dataset_id = \(id) AND seq IN (2, 3) AND num IS NULL") == "2")
            let back = try #require(try await store.dataset(uid: stored.uid, visibleTo: .everyone))
            #expect(back.name == "with\u{FFFD}nul" && back.observed == nil && back.access.accessGroups == ["g\u{FFFD}"])
            #expect(back == stored)
            #expect(try await store.metadataDocument(uid: stored.uid, visibleTo: .everyone) == ["nan": "NaN"])
            try await catalog.checkTextIndex()
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func twoStoresWriteOneCatalogAtOnce(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let other = try await catalog.openAgain()
            let stores = [catalog.store, other]
            let perStore = 40
            _ = try await catalog.store.record(Self.fullRecord(location: "/shared"), harvest: nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (s, store) in stores.enumerated() {
                    group.addTask {
                        for i in 0..<perStore {
                            let rows = [MetaRow(scope: "hdu0", key: "I", type: .number, number: Double(i), text: String(i))]
                            _ = try await store.record(Self.fullRecord(location: "/s\(s)/\(i)"), harvest: Self.harvest(rows))
                            // Both also change one shared dataset's access.
                            _ = try await store.changeAccess(.location("/shared"), AccessChange(addGroups: ["s\(s)-\(i)"]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await other.close()
            #expect(try await catalog.sql("SELECT count(*) FROM dataset") == String(2 * perStore + 1))
            #expect(try await catalog.sql("SELECT count(*) FROM meta") == String(2 * perStore))
            #expect(try await catalog.sql("SELECT count(DISTINCT uid) FROM dataset") == String(2 * perStore + 1))
            let shared = try #require(try await catalog.store.dataset(location: "/shared"))
            #expect(shared.access.accessGroups.count == 2 * perStore + 2)
            // One bump per new dataset and per access change that changed something.
            #expect(try await catalog.store.accessVersion() == Int64(2 * perStore + 1 + 2 * perStore))
            try await catalog.checkTextIndex()
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func twoStoresMigrateANewCatalogAtOnce(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            // A second, empty catalog opened by two stores at the same moment.
            let fresh = try await catalog.emptySibling()
            async let first = fresh.open()
            async let second = fresh.open()
            let (a, b) = try await (first, second)
            _ = try await a.record(Self.fullRecord(), harvest: nil)
            #expect(try await b.dataset(location: Self.fullRecord().location) != nil)
            try await a.close()
            try await b.close()
            await catalog.dropSibling()
        }
    }
}

extension TestCatalog {
    var isSQLite: Bool { if case .sqlite = location { return true }; return false }

    /// SQLite: FTS5's own integrity check of the external-content index against
    /// `dataset_text`. PostgreSQL's tsvector is a generated column, so it is compared with
    /// the body it is generated from.
    func checkTextIndex() async throws {
        if isSQLite {
            _ = try await sql("INSERT INTO dataset_fts(dataset_fts) VALUES('integrity-check')")
        } else {
            #expect(try await sql("SELECT count(*) FROM dataset_text WHERE tsv IS DISTINCT FROM to_tsvector('simple', body)") == "0")
        }
    }

    /// The datasets whose text index holds `word`, by id.
    func textMatches(_ word: String) async throws -> [Int64] {
        let query = isSQLite
            ? "SELECT rowid FROM dataset_fts WHERE dataset_fts MATCH '\"\(word)\"' ORDER BY rowid"
            : "SELECT dataset_id FROM dataset_text WHERE tsv @@ to_tsquery('simple', '\(word)') ORDER BY dataset_id"
        let out = try await sql(query)
        return out.isEmpty ? [] : out.components(separatedBy: "\n").compactMap { Int64($0) }
    }

    func dropSibling() async {
        if case let .database(server, database) = cleanup {
            _ = try? await server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database)_s WITH (FORCE)")
        }
    }

    /// Another catalog location beside this one that nothing has opened yet.
    func emptySibling() async throws -> CatalogLocation {
        switch cleanup {
        case let .folder(dir): return .sqlite(path: "\(dir)/sibling.sqlite")
        case let .database(server, database):
            let name = database + "_s"
            _ = try await server.psql(database: "postgres", "CREATE DATABASE \(name)")
            return .postgres(server.settings(database: name))
        }
    }
}
