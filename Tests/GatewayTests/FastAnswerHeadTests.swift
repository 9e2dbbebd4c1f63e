import HTTPTypes
import NIOCore
import Testing
@testable import Gateway

/// The fast path writes response heads by hand; these must be byte for byte the general form.
@Suite struct FastAnswerHeadTests {
    @Test(arguments: [HTTPResponse.Status.ok, .partialContent, .notModified, .notFound, .preconditionFailed,
                      .rangeNotSatisfiable, .badRequest, .internalServerError])
    func statusLinesAreTheStandardOnes(_ status: HTTPResponse.Status) {
        var fast = ByteBuffer(), general = ByteBuffer()
        fast.writeStatusLine(status)
        general.writeGeneralStatusLine(status)
        #expect(fast == general)
        #expect(String(buffer: general) == "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
    }

    @Test func fieldsAreNameColonValueCRLF() {
        var buffer = ByteBuffer()
        buffer.writeField(.contentLength, "0")
        buffer.writeField(.eTag, "")
        let long = String(repeating: "v", count: 5000) // past the buffer's first capacity
        buffer.writeField(.cacheControl, long)
        #expect(String(buffer: buffer) == "Content-Length: 0\r\nETag: \r\nCache-Control: \(long)\r\n")
    }
}
