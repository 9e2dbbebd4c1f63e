@testable import Storage
import Testing

@Suite struct MD5Tests {
    private func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined() }

    @Test func rfc1321Vectors() {
        #expect(hex(MD5.digest([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex(MD5.digest(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        // Two blocks once padded (56 bytes and more).
        #expect(hex(MD5.digest(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)))
                == "57edf4a22be3c955ac49da2e2107b67a")
    }

    /// The tag moto (and S3) gave an object of one 10-byte part of "x"s.
    @Test func multipartETagOfPartTags() {
        let part = "\"" + hex(MD5.digest([UInt8](repeating: 120, count: 10))) + "\""
        #expect(MD5.multipartETag(of: [part]) == "\"cb8d7289925309a05b2db09b7709c264-1\"")
        #expect(MD5.multipartETag(of: [part, "\"not-an-md5\""]) == nil)
    }
}
