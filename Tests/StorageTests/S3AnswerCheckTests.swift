import Foundation
@testable import Storage
import Testing

/// The checks S3Store makes of what a server answers (issue 21 items 7-11); the same
/// faults, end to end through a proxy in front of moto, are in
/// Tests/Conformance/test_s3_faults.py.
@Suite struct S3AnswerCheckTests {
    @Test func contentRangeMustBeTheRangeAskedFor() {
        let slice = ByteRange.slice(offset: 100, length: 50)
        #expect(ContentRange.mismatch(header: "bytes 100-149/1000", asked: slice, bodyCount: 50) == nil)
        #expect(ContentRange.mismatch(header: "bytes 100-149/*", asked: slice, bodyCount: 50) == nil)
        // Clipped at the object's end: right; clipped anywhere else: wrong.
        #expect(ContentRange.mismatch(header: "bytes 100-119/120", asked: slice, bodyCount: 20) == nil)
        #expect(ContentRange.mismatch(header: "bytes 100-119/500", asked: slice, bodyCount: 20) != nil)
        // Another start, a body of another length, no or an unreadable header.
        #expect(ContentRange.mismatch(header: "bytes 99-148/1000", asked: slice, bodyCount: 50) != nil)
        #expect(ContentRange.mismatch(header: "bytes 100-149/1000", asked: slice, bodyCount: 49) != nil)
        #expect(ContentRange.mismatch(header: nil, asked: slice, bodyCount: 50) != nil)
        #expect(ContentRange.mismatch(header: "bytes 149-100/1000", asked: slice, bodyCount: 50) != nil)
        #expect(ContentRange.mismatch(header: "bytes 0-\(Int.max)/*", asked: slice, bodyCount: 50) != nil)

        #expect(ContentRange.mismatch(header: "bytes 10-99/100", asked: .from(10), bodyCount: 90) == nil)
        #expect(ContentRange.mismatch(header: "bytes 10-49/100", asked: .from(10), bodyCount: 40) != nil)
        #expect(ContentRange.mismatch(header: "bytes 84-99/100", asked: .suffix(16), bodyCount: 16) == nil)
        #expect(ContentRange.mismatch(header: "bytes 0-9/10", asked: .suffix(16), bodyCount: 10) == nil)
        #expect(ContentRange.mismatch(header: "bytes 83-98/100", asked: .suffix(16), bodyCount: 16) != nil)
    }

    static let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>\
        <IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken>\
        <Contents><Key>p/zarr.json</Key><Size>120</Size><Owner><ID>x</ID></Owner></Contents>\
        <Contents><Key>p/c/0/0</Key><Size>4096</Size></Contents>\
        <CommonPrefixes><Prefix>p/c/</Prefix></CommonPrefixes></ListBucketResult>
        """

    @Test func aWholeListingPageParses() throws {
        let page = try ListPage.parse(Array(Self.page.utf8))
        #expect(page.entries.map(\.key) == ["p/zarr.json", "p/c/0/0"] && page.entries.map(\.size) == [120, 4096])
        #expect(page.folders == ["p/c/"] && page.truncated && page.nextToken == "t1")
    }

    @Test func aListingPageCutAnywhereIsAnError() {
        let bytes = Array(Self.page.utf8)
        // Every cut, including those at element boundaries, leaves the root unclosed.
        for cut in stride(from: 0, to: bytes.count - 1, by: 7) {
            #expect(throws: S3XMLError.self) { try ListPage.parse(Array(bytes[..<cut])) }
        }
    }

    @Test func aListingPageThatSaysMoreButGivesNoTokenOrABadSizeIsAnError() {
        let noToken = Self.page.replacingOccurrences(of: "<NextContinuationToken>t1</NextContinuationToken>", with: "")
        #expect(throws: S3XMLError.self) { try ListPage.parse(Array(noToken.utf8)) }
        let badSize = Self.page.replacingOccurrences(of: "<Size>120</Size>", with: "<Size>12x</Size>")
        #expect(throws: S3XMLError.self) { try ListPage.parse(Array(badSize.utf8)) }
        let otherRoot = "<Error><Code>InternalError</Code></Error>"
        #expect(throws: S3XMLError.self) { try ListPage.parse(Array(otherRoot.utf8)) }
    }

    @Test func uploadsInProgressAreReadPerKey() throws {
        let body = """
            <ListMultipartUploadsResult><IsTruncated>false</IsTruncated>\
            <Upload><UploadId>u1</UploadId><Key>a/0</Key><Owner><ID>o</ID></Owner></Upload>\
            <Upload><Key>a/0/1</Key><UploadId>u2</UploadId></Upload></ListMultipartUploadsResult>
            """
        let page = try UploadsPage.parse(Array(body.utf8))
        #expect(page.uploads.map(\.key) == ["a/0", "a/0/1"] && page.uploads.map(\.id) == ["u1", "u2"] && !page.truncated)
    }

    @Test func aWrongRegionAnswerNamesTheRegion() {
        let redirect = HTTPResponse(status: 301, body: Array("<Error><Code>PermanentRedirect</Code><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint></Error>".utf8))
        #expect(RegionHint.isWrongRegion(redirect) && RegionHint.region(in: redirect) == "eu-west-1")
        let head = HTTPResponse(status: 301, body: [], headers: ["x-amz-bucket-region": "ap-south-2"])
        #expect(RegionHint.region(in: head) == "ap-south-2")
        let malformed = HTTPResponse(status: 400, body: Array("<Error><Code>AuthorizationHeaderMalformed</Code><Region>us-west-2</Region></Error>".utf8))
        #expect(RegionHint.isWrongRegion(malformed))
        #expect(RegionHint.reason(malformed, bucket: "b", configured: "us-east-1").contains("set AWS_REGION=us-west-2"))
        // Nothing but a region name passes from an answer into the message.
        let hostile = HTTPResponse(status: 400, body: Array("<Error><Code>AuthorizationHeaderMalformed</Code><Region>x; rm -rf /</Region></Error>".utf8))
        #expect(RegionHint.region(in: hostile) == nil)
        #expect(!RegionHint.isWrongRegion(HTTPResponse(status: 403, body: Array("<Error><Code>AccessDenied</Code></Error>".utf8))))
    }
}
