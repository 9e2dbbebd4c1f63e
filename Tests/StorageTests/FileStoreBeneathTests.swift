import Foundation
import Testing
@testable import Storage

/// FileStore reads open beneath the root (tessera_open_beneath): a symbolic link or
/// `..` that leaves the root is refused for every reader, not only the gateway.
@Suite struct FileStoreBeneathTests {
    let folder = ScratchFolder()

    init() throws {
        try FileStore(path: folder.path).set("outside/secret", Array("secret".utf8))
        try folder.store.set("root/a/0", [1, 2, 3])
        symlink(folder.path + "/outside/secret", folder.path + "/root/escape")
        symlink("../../outside/secret", folder.path + "/root/a/relative-escape")
        symlink(folder.path + "/outside", folder.path + "/root/dir-escape")
    }

    var store: FileStore { FileStore(path: folder.path + "/root") }

    @Test func anEscapingSymlinkIsRefusedNotRead() throws {
        let s = store
        #expect(try s.get("a/0") == [1, 2, 3])
        for key in ["escape", "a/relative-escape", "dir-escape/secret"] {
            #expect("\(key)") { try s.get(key) } throws: { "\($0)".contains("leaves the store's root") }
            #expect("\(key)") { try s.get(key, range: .suffix(2)) } throws: { "\($0)".contains("leaves the store's root") }
            #expect("\(key)") { try s.size(key) } throws: { "\($0)".contains("leaves the store's root") }
        }
        // Listings neither show nor follow links; --overwrite hears of them.
        #expect(try s.list(prefix: "").map(\.key) == ["a/0"])
        #expect(Set(s.unlistedEntries(prefix: "").map(\.key)) == ["escape", "a/relative-escape", "dir-escape"])
    }

    @Test func aRootThatDoesNotExistYetHoldsNothingUntilWritten() throws {
        let s = FileStore(path: folder.path + "/later/out")
        #expect(try s.get("k") == nil)
        #expect(try s.list(prefix: "").isEmpty)
        #expect(try s.listFolder("") == nil)
        try s.set("k", [9])
        #expect(try s.get("k") == [9])
        #expect(try s.listFolder("") == FolderListing(objects: [StoreEntry(key: "k", size: 1)]))
    }

    @Test func readsCarryFileValidatorsAndConditionalReadsCompareThem() throws {
        let s = store
        let first = try #require(try s.read("a/0", range: nil))
        #expect(first.bytes == [1, 2, 3] && first.info.size == 3 && first.info.file != nil)
        guard case .unchanged = try s.getIfChanged("a/0", range: nil, held: first.info) else { Issue.record("unchanged file reread"); return }
        try s.set("a/0", [4, 5]) // a rename: a new inode
        guard case let .changed(now) = try s.getIfChanged("a/0", range: .suffix(1), held: first.info) else {
            Issue.record("a replaced file passed for unchanged"); return
        }
        #expect(now.bytes == [5] && now.info.size == 2)
        guard case .missing = try s.getIfChanged("a/none", range: nil, held: first.info) else { Issue.record("missing"); return }
    }

    @Test func streamedWritesAppearWholeOnFinishOnly() throws {
        let s = store
        let writer = try s.writer(for: "big/object")
        try writer.append([1, 2])
        #expect(try s.get("big/object") == nil)
        try writer.append([3])
        try writer.finish()
        #expect(try s.get("big/object") == [1, 2, 3])
        let dropped = try s.writer(for: "big/other")
        try dropped.append([1])
        dropped.abort()
        #expect(try s.get("big/other") == nil)
        #expect(s.removeStaleTemporaries() == 0)
    }

    @Test func listingsComeInPagesAndFolders() throws {
        let s = FileStore(path: folder.path + "/many")
        for i in 0..<(FileStore.pageSize + 5) { try s.set("c/\(i)", [1]) }
        try s.set("zarr.json", [1])
        var pages = [Int]()
        try s.listPages(prefix: "c/") { pages.append($0.count) }
        #expect(pages == [FileStore.pageSize, 5])
        let top = try #require(try s.listFolder(""))
        #expect(top.folders == ["c"] && top.objects.map(\.key) == ["zarr.json"])
        // The protocol's default (for stores without folders) gives the same answer.
        let memory = MemoryStore()
        try memory.set("c/1", [1])
        try memory.set("c/2/x", [1])
        try memory.set("zarr.json", [1])
        #expect(try memory.listFolder("")?.sorted() == top)
        #expect(try memory.listFolder("c")?.sorted() == FolderListing(objects: [StoreEntry(key: "1", size: 1)], folders: ["2"]))
    }
}
