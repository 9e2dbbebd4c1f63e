import Foundation
import Testing
@testable import Storage

@Suite struct FileStoreTests {
    let folder = ScratchFolder()
    func freshStore() -> FileStore { folder.store }

    @Test func writesAreAtomicAndListed() throws {
        let s = freshStore()
        try s.set("a/b/c", [1, 2, 3])
        try s.set("a/b/c", [4, 5])
        try s.set("z", [])
        #expect(try s.get("a/b/c") == [4, 5])
        #expect(try s.list(prefix: "").map(\.key).sorted() == ["a/b/c", "z"])
        #expect(try s.list(prefix: "a/").map(\.size) == [2])
        #expect(s.removeStaleTemporaries() == 0)
    }

    @Test func rangesAreClipped() throws {
        let s = freshStore()
        try s.set("k", Array(0..<10))
        #expect(try s.get("k", range: .suffix(3)) == [7, 8, 9])
        #expect(try s.get("k", range: .from(8)) == [8, 9])
        #expect(try s.get("k", range: .slice(offset: 2, length: 3)) == [2, 3, 4])
        #expect(try s.get("k", range: .slice(offset: 8, length: 30)) == [8, 9])
        #expect(try s.get("missing", range: .suffix(3)) == nil)
        #expect(try s.size("k") == 10)
    }

    @Test func hostileKeysAreRejected() throws {
        let s = freshStore()
        for key in ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/\0b", ""] {
            #expect(throws: StorageError.self, "\(key)") { try s.set(key, [1]) }
            #expect(throws: StorageError.self, "\(key)") { try s.get(key) }
        }
    }

    @Test func staleTemporariesAreHiddenAndSwept() throws {
        let s = freshStore()
        try s.set("d/real", [1])
        try Data([9]).write(to: s.root.appendingPathComponent("d/.tessera-tmp-real.1.1"))
        #expect(try s.list(prefix: "").map(\.key) == ["d/real"])
        #expect(s.removeStaleTemporaries() == 1)
    }

    @Test func unwritableRootIsAClearError() throws {
        let s = FileStore(path: "/proc/tessera-cannot-write-here")
        #expect { try s.set("a/b", [1]) } throws: { "\($0)".contains("/proc/tessera-cannot-write-here/a/b") }
    }
}
