import Catalog
import Foundation
import Testing
import ZarrCore

/// `recordBatch` (what `tessera catalog add` writes through): one transaction per batch, and
/// a location already recorded exactly so is left as it is — its `updated` time and the
/// access version do not move — while a changed document or access rule is an update.
@Suite struct RecordBatchTests {
    @Test(arguments: CatalogBackend.allCases)
    func identicalRecordsAreLeftAsTheyAre(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { catalog in
            let store = catalog.store
            let a = StoreTests.fullRecord(location: "/data/a.ome.zarr")
            let b = StoreTests.fullRecord(location: "/data/b.ome.zarr")
            let items = [RecordItem(record: a, harvest: StoreTests.harvest()), RecordItem(record: b, harvest: StoreTests.harvest())]
            #expect(try await store.recordBatch(items) == [.added, .added])
            let version = try await store.accessVersion()

            // Harvested again later: a fresh uid and time, the same content.
            var later = items
            for i in later.indices { later[i].record.updated += 100; later[i].record.uid = "" }
            #expect(try await store.recordBatch(later) == [.unchanged, .unchanged])
            #expect(try await store.dataset(location: a.location)?.updated == a.updated)
            #expect(try await store.accessVersion() == version)

            later[0].harvest = StoreTests.harvest(document: ["changed": true])
            later[1].record.access.isPublic = true
            #expect(try await store.recordBatch(later) == [.updated, .updated])
            let first = try await store.dataset(location: a.location)
            #expect(first?.updated == a.updated + 100)
            #expect(try await store.metadataDocument(uid: first?.uid ?? "", visibleTo: .everyone) == ["changed": true])
            #expect(try await store.dataset(location: b.location)?.access.isPublic == true)
            #expect(try await store.accessVersion() > version)
        }
    }
}
