import Foundation
@testable import Storage
import Testing
import TestSupport

/// The paged listing's settings and the first-page question ("is anything there?").
@Suite struct ListingPagesTests {
    @Test func pageSizeComesFromTheEnvironmentWithinS3sBounds() {
        #expect(ListPageSize.requested(["TESSERA_LIST_PAGE_SIZE": "7"]) == 7)
        for bad in ["0", "-3", "1001", "many", ""] { #expect(ListPageSize.requested(["TESSERA_LIST_PAGE_SIZE": bad]) == nil) }
        #expect(ListPageSize.requested([:]) == nil)
        #expect(S3Configuration.fromEnvironment(["TESSERA_LIST_PAGE_SIZE": "10"]).listPageSize == 10)
        #expect(S3Configuration.fromEnvironment([:]).listPageSize == nil)
        // A bucket of 10^8 objects must not hit the runaway-listing bound at S3's 1,000 a page.
        #expect(S3Configuration.fromEnvironment([:]).maxListPages * ListPageSize.standard >= 100_000_000)
    }

    @Test func firstEntriesStopAfterThePageThatHoldsThem() throws {
        let folder = ScratchFolder()
        let s = folder.store
        #expect(try !s.holdsObjects(prefix: ""))
        for i in 0..<(FileStore.pageSize * 2 + 5) { try s.set("c/\(i)", [1]) }
        try s.set("other/x", [2])
        #expect(try s.firstEntries(prefix: "c/", limit: 3).count == 3)
        #expect(try s.firstEntries(prefix: "c/", limit: 0).isEmpty)
        #expect(try s.firstEntries(prefix: "other/", limit: 2) == [StoreEntry(key: "other/x", size: 1)])
        #expect(try s.holdsObjects(prefix: "c/") && !s.holdsObjects(prefix: "missing/"))
        // The listing of 2,005 keys is not walked past its first page.
        let counted = RecordingStore(s)
        _ = try counted.firstEntries(prefix: "c/", limit: 1)
        #expect(counted.listedPages == 1)
    }
}
