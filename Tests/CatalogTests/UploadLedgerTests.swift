import Catalog
import CatalogStores
import Foundation
import Testing

/// The uploads' bookkeeping (`upload`, migration "3-uploads"), alike on both stores:
/// reservations within the quota only, growing, staging, cancelling, a dead gateway's
/// reservations dropped, and concurrent reservations that never pass the quota together.
@Suite struct UploadLedgerTests {
    func ledger(_ c: TestCatalog) throws -> any UploadLedger {
        try #require(c.store as? any UploadLedger)
    }

    @Test(arguments: CatalogBackend.allCases)
    func reserveGrowStageAndCancel(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { c in
            let l = try ledger(c)
            #expect(try await l.reserveUpload(id: "u1", uploader: "alice", name: "a.fits", bytes: 600, quota: 1000, holder: "h.1",
                                              now: 1) == .reserved)
            // 600 used: 500 more does not fit, 400 does.
            #expect(try await l.reserveUpload(id: "u2", uploader: "alice", name: "b.fits", bytes: 500, quota: 1000, holder: "h.1",
                                              now: 2) == .overQuota(usedBytes: 600))
            #expect(try await l.reserveUpload(id: "u2", uploader: "alice", name: "b.fits", bytes: 400, quota: 1000, holder: "h.1",
                                              now: 2) == .reserved)
            #expect(try await l.growUpload(id: "u2", uploader: "alice", by: 1, quota: 1000, now: 3) == .overQuota(usedBytes: 1000))
            // Another user's quota is their own.
            #expect(try await l.reserveUpload(id: "u3", uploader: "bob", name: "a.fits", bytes: 1000, quota: 1000, holder: "h.2",
                                              now: 3) == .reserved)
            // Staged at its real size, the rest of the reservation is free again.
            #expect(try await l.stageUpload(id: "u1", stagedPath: "/s/alice/a.fits", bytes: 100, now: 4))
            #expect(try await l.uploadUsage(uploader: "alice") == 500)
            #expect(try await l.growUpload(id: "u2", uploader: "alice", by: 500, quota: 1000, now: 5) == .reserved)
            // One staged upload per path.
            #expect(try await l.stageUpload(id: "u2", stagedPath: "/s/alice/a.fits", bytes: 900, now: 6) == false)
            #expect(try await l.uploader(stagedPath: "/s/alice/a.fits") == "alice")
            #expect(try await l.uploader(stagedPath: "/s/alice/b.fits") == nil)
            try await l.cancelUpload(id: "u2")
            // Cancelling never removes a staged upload.
            try await l.cancelUpload(id: "u1")
            #expect(try await l.uploadUsage(uploader: "alice") == 100)
            #expect(try await l.dropReceivingUploads(holder: "h.2") == 1)
            #expect(try await l.uploadUsages() == [UploadUsage(uploader: "alice", receivingBytes: 0, stagedBytes: 100, stagedUploads: 1)])
            let status = try #require(c.store as? any CatalogStatusSource)
            #expect(try await status.status(failures: 5).uploads == l.uploadUsages())
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func concurrentReservationsNeverPassTheQuota(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { c in
            let l = try ledger(c)
            let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        try await l.reserveUpload(id: "c\(i)", uploader: "alice", name: "f\(i)", bytes: 100, quota: 1050,
                                                  holder: "h.1", now: Double(i)) == .reserved
                    }
                }
                var n = 0
                for try await ok in group where ok { n += 1 }
                return n
            }
            #expect(granted == 10)
            #expect(try await l.uploadUsage(uploader: "alice") == 1000)
        }
    }
}
