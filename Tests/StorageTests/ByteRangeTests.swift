import Testing
import Storage

@Suite struct ByteRangeTests {
    @Test func theThreeFormsResolveAndClip() {
        #expect(ByteRange.slice(offset: 2, length: 3).resolve(size: 10) == 2..<5)
        #expect(ByteRange.slice(offset: 8, length: 30).resolve(size: 10) == 8..<10)
        #expect(ByteRange.slice(offset: 12, length: 3).resolve(size: 10) == 10..<10)
        #expect(ByteRange.from(7).resolve(size: 10) == 7..<10)
        #expect(ByteRange.from(11).resolve(size: 10) == 10..<10)
        #expect(ByteRange.suffix(3).resolve(size: 10) == 7..<10)
        #expect(ByteRange.suffix(30).resolve(size: 10) == 0..<10)
        #expect(ByteRange.suffix(0).resolve(size: 10) == 10..<10)
    }

    @Test func hugeOffsetsAndLengthsDoNotOverflow() {
        #expect(ByteRange.slice(offset: 5, length: Int.max).resolve(size: 10) == 5..<10)
        #expect(ByteRange.slice(offset: Int.max, length: Int.max).resolve(size: 10) == 10..<10)
        #expect(ByteRange.slice(offset: -4, length: 2).resolve(size: 10) == 0..<2)
        #expect(ByteRange.suffix(Int.max).resolve(size: 10) == 0..<10)
        // A header's numbers past Int.max saturate instead of trapping.
        #expect(ByteRange(first: 0, last: UInt64.max) == .slice(offset: 0, length: Int.max))
        #expect(ByteRange(first: UInt64.max, last: nil) == .from(Int.max))
        #expect(ByteRange(first: 3, last: 3) == .slice(offset: 3, length: 1))
        #expect(ByteRange.slice(offset: Int.max - 1, length: 5).httpRange == "bytes=\(Int.max - 1)-")
    }

    @Test func httpSatisfiabilityFollowsRFC9110() {
        #expect(ByteRange.slice(offset: 10, length: 5).satisfiable(size: 12) == 10..<12)
        #expect(ByteRange.slice(offset: 12, length: 5).satisfiable(size: 12) == nil) // starts at the end
        #expect(ByteRange.from(11).satisfiable(size: 12) == 11..<12)
        #expect(ByteRange.from(12).satisfiable(size: 12) == nil)
        #expect(ByteRange.suffix(0).satisfiable(size: 12) == nil)
        #expect(ByteRange.suffix(1).satisfiable(size: 0) == nil)
        #expect(ByteRange.suffix(100).satisfiable(size: 12) == 0..<12)
    }

    @Test func headerValues() {
        #expect(ByteRange.slice(offset: 100, length: 50).httpRange == "bytes=100-149")
        #expect(ByteRange.from(7).httpRange == "bytes=7-")
        #expect(ByteRange.suffix(16).httpRange == "bytes=-16")
    }
}

@Suite struct StoreKeyTests {
    @Test func validKeysPass() throws {
        for key in ["a", "0/.zarray", "c/0/1/2", "a.b/..c", ".zattrs", "x/.tessera-tmp-y"] { try StoreKey.validate(key) }
    }

    @Test func keysThatCouldLeaveTheRootAreRejected() {
        for key in ["", "/a", "a/", "a//b", ".", "..", "a/../b", "./a", "a/.", "a\0b"] {
            #expect(throws: StorageError.invalidRequest("'\(key)' is not a valid store key"), "\(key)") { try StoreKey.validate(key) }
        }
    }

    @Test func joinSkipsEmptySegmentsAndTemporariesAreRecognised() {
        #expect(joinKey("", "0", ".zarray") == "0/.zarray")
        #expect(joinKey("a/", "/b/", "c") == "a/b/c")
        #expect(StoreKey.isTemporary(StoreKey.temporaryMarker + "x.1.2"))
        #expect(!StoreKey.isTemporary("x.tessera-tmp-"))
    }

    @Test func errorsReadAsTheyAlwaysHave() {
        #expect("\(StorageError.failed(key: "/d/k", reason: "cannot open: boom"))" == "storage error at '/d/k': cannot open: boom")
        #expect("\(StorageError.invalidRequest("'a//b' is not a valid store key"))" == "invalid request: 'a//b' is not a valid store key")
    }
}
