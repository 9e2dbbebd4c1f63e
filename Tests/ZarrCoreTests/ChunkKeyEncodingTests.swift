import Testing
@testable import ZarrCore

@Suite struct ChunkKeyEncodingTests {
    @Test func chunkKeys() {
        #expect(ChunkKeyEncoding.v3Default.key([1, 0, 12]) == "c/1/0/12")
        #expect(ChunkKeyEncoding.v3Default.key([]) == "c")
        #expect(ChunkKeyEncoding(kind: .v2, separator: ".").key([1, 2]) == "1.2")
        #expect(ChunkKeyEncoding.v2Nested.key([]) == "0")
    }
}
