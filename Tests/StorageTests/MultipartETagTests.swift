@testable import Storage
import Testing

@Suite struct MultipartETagTests {
    private func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined() }

    /// The tag moto (and S3) gave an object of one 10-byte part of "x"s.
    @Test func multipartETagOfPartTags() {
        let part = "\"" + hex(MultipartETag.md5([UInt8](repeating: 120, count: 10))) + "\""
        #expect(MultipartETag.of([part]) == "\"cb8d7289925309a05b2db09b7709c264-1\"")
        #expect(MultipartETag.of([part, "\"not-an-md5\""]) == nil)
    }
}
