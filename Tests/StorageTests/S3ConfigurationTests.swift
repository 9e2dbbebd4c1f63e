import Foundation
@testable import Storage
import Testing

@Suite struct S3ConfigurationTests {
    @Test func environmentKeysWinOverProfilesAndEndpointsGoPathStyle() {
        let c = S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "T",
                                                 "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000/"])
        #expect(c.credentials?.accessKey == "AK" && c.credentials?.sessionToken == "T")
        #expect(c.region == "eu-west-1" && c.endpoint == "http://127.0.0.1:9000" && c.pathStyle)
        #expect(S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_NO_SIGN_REQUEST": "true"]).credentials == nil)
    }

    @Test func connectToEntriesAreReadCommaSeparated() {
        let c = S3Configuration.fromEnvironment(["TESSERA_S3_CONNECT_TO": "b.s3.test:80:127.0.0.1:9000, ::127.0.0.1:", "TESSERA_S3_ADDRESSING": "virtual",
                                                 "AWS_ENDPOINT_URL": "http://s3.test"])
        #expect(c.connectTo == ["b.s3.test:80:127.0.0.1:9000", "::127.0.0.1:"] && !c.pathStyle)
        #expect(S3Configuration.fromEnvironment([:]).connectTo.isEmpty)
    }

    @Test func profileIsReadFromTheCredentialsFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID())")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
        [default]
        aws_access_key_id = D1
        aws_secret_access_key = D2
        ; a comment
        [lab]
        aws_access_key_id=L1
        aws_secret_access_key=L2
        aws_session_token = L3
        """.write(to: file, atomically: true, encoding: .utf8)
        let lab = S3Configuration.fromEnvironment(["AWS_PROFILE": "lab", "AWS_SHARED_CREDENTIALS_FILE": file.path])
        #expect(lab.credentials?.accessKey == "L1" && lab.credentials?.secretKey == "L2" && lab.credentials?.sessionToken == "L3")
        #expect(S3Configuration.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": file.path]).credentials?.accessKey == "D1")
        #expect(S3Configuration.fromEnvironment(["AWS_PROFILE": "none", "AWS_SHARED_CREDENTIALS_FILE": file.path]).credentials == nil)
    }

    @Test func listPagesAndKeysEncodeAsSigV4Expects() throws {
        let xml = """
        <ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/a/zarr.json</Key><Size>12</Size></Contents>\
        <Contents><Key>p/a/c/0/0</Key><Size>3400</Size></Contents><NextContinuationToken>tok/=+</NextContinuationToken></ListBucketResult>
        """
        let page = try ListPage.parse(Array(xml.utf8))
        #expect(page.entries.map(\.key) == ["p/a/zarr.json", "p/a/c/0/0"] && page.entries.map(\.size) == [12, 3400])
        #expect(page.truncated && page.nextToken == "tok/=+")
        #expect(S3Store.encode("a b/c+d~e", keepSlash: true) == "a%20b/c%2Bd~e")
        #expect(S3Store.encode("tok/=+", keepSlash: false) == "tok%2F%3D%2B")
        #expect(S3Store.errorCode(Array("<Error><Code>NoSuchBucket</Code></Error>".utf8)) == "NoSuchBucket")
    }
}
