import Catalog
import CatalogStores
import Foundation
import Testing

/// The watch ingest's ledger (`ingest_file`), alike on both stores: claims, settling, leases,
/// take-over of a dead holder, and one winner when watchers claim one path at once.
@Suite struct IngestLedgerTests {
    static let id1 = FileIdentity(size: 100, mtimeNanoseconds: 1_700_000_000_123_456_789, inode: 42)
    static let id2 = FileIdentity(size: 200, mtimeNanoseconds: 1_700_000_100_000_000_000, inode: 42)

    func ledger(_ c: TestCatalog) throws -> any IngestLedger {
        try #require(c.store as? any IngestLedger)
    }

    @Test(arguments: CatalogBackend.allCases)
    func claimFinishAndSettle(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { c in
            let l = try ledger(c)
            #expect(try await l.ingestState(path: "/in/a.fits") == nil)
            let claim = try await l.claimIngest(path: "/in/a.fits", identity: Self.id1, output: "a.ome.zarr", holder: "h:1:1",
                                                leaseUntil: 1060, deadHolders: [], now: 1000)
            #expect(claim == IngestClaim(previous: nil, output: "a.ome.zarr", attempts: 1))
            // Held: another watcher cannot take it while the lease runs.
            #expect(try await l.claimIngest(path: "/in/a.fits", identity: Self.id1, output: "x", holder: "h:2:1",
                                            leaseUntil: 1070, deadHolders: [], now: 1010) == nil)
            try await l.finishIngest(path: "/in/a.fits", holder: "h:1:1", status: .failed, datasetUID: nil,
                                     error: "'a.fits': not a FITS file", now: 1020)
            let failed = try #require(try await l.ingestState(path: "/in/a.fits"))
            #expect(failed.status == .failed && failed.error == "'a.fits': not a FITS file" && failed.identity == Self.id1)
            #expect(failed.holder == nil && failed.leaseUntil == nil && failed.attempts == 1 && failed.updated == 1020)
            // Failed at this identity: not taken again. Changed: taken, the output name kept.
            #expect(try await l.claimIngest(path: "/in/a.fits", identity: Self.id1, output: "a.ome.zarr", holder: "h:1:1",
                                            leaseUntil: 1090, deadHolders: [], now: 1030) == nil)
            let again = try #require(try await l.claimIngest(path: "/in/a.fits", identity: Self.id2, output: "other.ome.zarr",
                                                             holder: "h:1:1", leaseUntil: 1090, deadHolders: [], now: 1030))
            #expect(again.output == "a.ome.zarr" && again.attempts == 2 && again.previous?.status == .failed)
            try await l.finishIngest(path: "/in/a.fits", holder: "h:1:1", status: .done, datasetUID: "uid-1", error: nil, now: 1040)
            let done = try #require(try await l.ingestState(path: "/in/a.fits"))
            #expect(done.status == .done && done.datasetUID == "uid-1" && done.error == nil && done.identity == Self.id2)
            #expect(done.settles(Self.id2) && !done.settles(Self.id1))
            #expect(try await l.ingestPath(output: "a.ome.zarr") == "/in/a.fits")
            #expect(try await l.ingestPath(output: "b.ome.zarr") == nil)
            // A finish by a holder that lost the claim changes nothing.
            try await l.finishIngest(path: "/in/a.fits", holder: "h:9:9", status: .failed, datasetUID: nil, error: "late", now: 1050)
            #expect(try await l.ingestState(path: "/in/a.fits")?.status == .done)
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func expiredOrDeadHolderIsTakenOver(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { c in
            let l = try ledger(c)
            _ = try await l.claimIngest(path: "/in/b.fits", identity: Self.id1, output: "b.ome.zarr", holder: "h:1:1",
                                        leaseUntil: 1060, deadHolders: [], now: 1000)
            try await l.renewIngestLeases(paths: ["/in/b.fits"], holder: "h:1:1", leaseUntil: 1200)
            #expect(try await l.ingestState(path: "/in/b.fits")?.leaseUntil == 1200)
            // Renewed: still held at 1100; a known-dead holder is taken over at once.
            #expect(try await l.claimIngest(path: "/in/b.fits", identity: Self.id1, output: "b.ome.zarr", holder: "h:2:2",
                                            leaseUntil: 1160, deadHolders: [], now: 1100) == nil)
            let taken = try #require(try await l.claimIngest(path: "/in/b.fits", identity: Self.id1, output: "b.ome.zarr",
                                                             holder: "h:2:2", leaseUntil: 1160, deadHolders: ["h:1:1"], now: 1100))
            #expect(taken.previous?.status == .converting && taken.previous?.holder == "h:1:1" && taken.attempts == 2)
            // The lease of h:2:2 runs out at 1160: a third watcher takes it after.
            #expect(try await l.claimIngest(path: "/in/b.fits", identity: Self.id1, output: "b.ome.zarr", holder: "h:3:3",
                                            leaseUntil: 1300, deadHolders: [], now: 1161)?.attempts == 3)
            #expect(try await c.sql("SELECT holder, attempts FROM ingest_file") == "h:3:3|3")
        }
    }

    @Test(arguments: CatalogBackend.allCases)
    func oneWinnerWhenWatchersClaimAtOnce(_ backend: CatalogBackend) async throws {
        try await backend.withCatalog { c in
            let others = try await (0..<4).asyncMap { _ in try await c.openAgain() }
            let winners = try await withThrowingTaskGroup(of: Int.self) { group in
                for (i, store) in others.enumerated() {
                    group.addTask {
                        let l = try #require(store as? any IngestLedger)
                        var won = 0
                        for p in 0..<20 {
                            if try await l.claimIngest(path: "/in/f\(p).fits", identity: Self.id1, output: "f\(p).ome.zarr",
                                                       holder: "h:\(i):0", leaseUntil: 2000, deadHolders: [], now: 1000) != nil {
                                won += 1
                            }
                        }
                        return won
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(winners == 20)
            #expect(try await c.sql("SELECT count(*), sum(attempts) FROM ingest_file") == "20|20")
            for store in others { try? await store.close() }
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out = [T]()
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
