import Foundation
@testable import Storage
import Testing

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
        let counted = CountingStore(inner: s)
        _ = try counted.firstEntries(prefix: "c/", limit: 1)
        #expect(counted.pages == 1)
    }
}

/// A store that counts the pages its listing handed over.
final class CountingStore: Store, @unchecked Sendable {
    let inner: FileStore
    var pages = 0
    init(inner: FileStore) { self.inner = inner }
    func get(_ key: String) throws -> [UInt8]? { try inner.get(key) }
    func get(_ key: String, range: ByteRange) throws -> [UInt8]? { try inner.get(key, range: range) }
    func size(_ key: String) throws -> Int? { try inner.size(key) }
    func set(_ key: String, _ bytes: [UInt8]) throws { try inner.set(key, bytes) }
    func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool { try inner.createIfAbsent(key, bytes) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func list(prefix: String) throws -> [StoreEntry] { try inner.list(prefix: prefix) }
    func describe(_ key: String) -> String { inner.describe(key) }
    func listPages(prefix: String, _ page: ([StoreEntry]) throws -> Void) throws {
        try inner.listPages(prefix: prefix) { entries in
            pages += 1
            try page(entries)
        }
    }
}
