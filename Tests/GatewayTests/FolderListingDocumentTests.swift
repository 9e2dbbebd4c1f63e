import Storage
import Testing
@testable import Gateway
import ZarrCore

/// The listing document's bytes are what `JSONSerialization` with sorted keys and
/// unescaped slashes wrote before it was typed: compact, `folders` before `objects`,
/// `key` before `size`, only quotes, backslashes and control characters escaped.
@Suite struct FolderListingDocumentTests {
    @Test func bytesAreCompactSortedAndUnescaped() throws {
        let listing = FolderListing(
            objects: [StoreEntry(key: "a/zarr.json", size: 412), StoreEntry(key: "q\"uote\\é", size: 9_007_199_254_740_993),
                      StoreEntry(key: "tab\there\u{01}", size: 0)],
            folders: ["0", "ünï/€"]
        )
        let bytes = try FolderListingDocument(listing).encoded()
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"folders":["0","ünï/€"],"objects":[{"key":"a/zarr.json","size":412},"#
            + #"{"key":"q\"uote\\é","size":9007199254740993},{"key":"tab\there\u0001","size":0}]}"#)
    }

    @Test func anEmptyFolder() throws {
        let bytes = try FolderListingDocument(FolderListing(objects: [], folders: [])).encoded()
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"folders":[],"objects":[]}"#)
    }
}
