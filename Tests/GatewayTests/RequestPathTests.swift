import Testing
@testable import Gateway

@Suite struct RequestPathTests {
    @Test func routesRootsKeysAndOperations() {
        #expect(RequestPath.parse("/healthz") == .health)
        #expect(RequestPath.parse("/metrics") == .metrics)
        #expect(RequestPath.parse("/img/0/zarr.json") == .object(root: "img", key: "0/zarr.json", isFolder: false))
        #expect(RequestPath.parse("/img/0/") == .object(root: "img", key: "0", isFolder: true))
        #expect(RequestPath.parse("/img") == .object(root: "img", key: "", isFolder: false))
        #expect(RequestPath.parse("/img/a%20b/.zarray") == .object(root: "img", key: "a b/.zarray", isFolder: false))
        #expect(RequestPath.parse("/img/caf%C3%A9") == .object(root: "img", key: "café", isFolder: false))
    }

    @Test(arguments: [
        "/img/../etc/passwd", "/img/%2e%2e/x", "/img/%2E%2E/x", "/img/.%2e/x", "/img/a%2fb", "/img/a%2Fb",
        "/img/a%5cb", "/img/a\\b", "/img/a%00b", "/img/%c0%ae%c0%ae/x", "/img/%e0%80%ae", "/img//x",
        "/img/./x", "/img/%", "/img/%zz", "img/x", "//etc/passwd", "/img/a%0ab", "/img/%ff",
    ])
    func rejectsHostilePaths(_ path: String) {
        #expect(RequestPath.parse(path[...]) == .rejected)
    }

    /// The in-place parser for paths without escapes must agree with the general
    /// split-decode-join parser on every path, hostile ones included.
    @Test func inPlaceParserAgreesWithTheGeneralOne() {
        let alphabet: [Character] = ["a", "b", "/", "/", ".", "\\", "\u{01}", "\u{7f}", "é", "-"]
        var generator = SystemRandomNumberGenerator()
        var paths = ["", "/", "//", "a", "a/", "a//", "a/.", "a/..", "a/./b", ".", "..", "a/b/", "a/b//", "./a", "a\\b"]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...9, using: &generator)
            paths.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for path in paths {
            let inPlace = Array(path.utf8).withUnsafeBytes { RequestPath.parseUnescaped($0) }
            #expect(inPlace == RequestPath.parseSegments(path[...]), "path \(path.debugDescription)")
        }
    }

    @Test func doubleEncodingDecodesOnlyOnce() {
        // %252e%252e is the literal name "%2e%2e", never "..".
        #expect(RequestPath.parse("/img/%252e%252e/x") == .object(root: "img", key: "%2e%2e/x", isFolder: false))
    }
}

@Suite struct RangeRequestTests {
    @Test func parsesTheThreeForms() {
        #expect(RangeRequest(header: "bytes=0-99") == .closed(first: 0, last: 99))
        #expect(RangeRequest(header: "bytes=100-") == .closed(first: 100, last: nil))
        #expect(RangeRequest(header: "bytes=-16") == .suffix(16))
        #expect(RangeRequest(header: "Bytes=7-8") == .closed(first: 7, last: 8)) // the unit is case-insensitive
        #expect(RangeRequest(header: "bytesx=5-9") == .none) // another unit
        // The bytes unit written wrongly is still a range: never answered with the whole
        // body (issue 14.8: `bytes =0-4` got a 200).
        #expect(RangeRequest(header: " bytes = 5-9 ") == .unsatisfiable)
        #expect(RangeRequest(header: "bytes 0-4") == .unsatisfiable)
        #expect(RangeRequest(header: nil) == .none)
        #expect(RangeRequest(header: "items=0-5") == .none)
    }

    @Test(arguments: ["bytes=5-1", "bytes=", "bytes=-", "bytes=a-b", "bytes=0-1,4-5", "bytes=--1", "bytes=1-2-3", "bytes=0x10-"])
    func malformedOrMultipleIsUnsatisfiable(_ header: String) {
        #expect(RangeRequest(header: header[...]) == .unsatisfiable)
        #expect(RangeRequest(header: header[...]).resolve(size: 100) == .failure(.init()))
    }

    @Test func resolvesAgainstTheObjectSize() {
        #expect(RangeRequest(header: "bytes=0-99").resolve(size: 50) == .success(0..<50))
        #expect(RangeRequest(header: "bytes=10-19").resolve(size: 50) == .success(10..<20))
        #expect(RangeRequest(header: "bytes=49-").resolve(size: 50) == .success(49..<50))
        #expect(RangeRequest(header: "bytes=50-").resolve(size: 50) == .failure(.init()))
        #expect(RangeRequest(header: "bytes=-16").resolve(size: 50) == .success(34..<50))
        #expect(RangeRequest(header: "bytes=-500").resolve(size: 50) == .success(0..<50))
        #expect(RangeRequest(header: "bytes=-0").resolve(size: 50) == .failure(.init()))
        #expect(RangeRequest(header: "bytes=-1").resolve(size: 0) == .failure(.init()))
        #expect(RangeRequest(header: "bytes=0-99999999999999999999999").resolve(size: 50) == .success(0..<50))
        #expect(RangeRequest(header: "bytes=99999999999999999999999-").resolve(size: 50) == .failure(.init()))
        #expect(RangeRequest(header: nil).resolve(size: 50) == nil)
    }
}

@Suite struct PreconditionTests {
    let v = Validators(etag: "\"abc\"", lastModified: 1_700_000_000)

    @Test func ifNoneMatchWinsOverIfModifiedSince() {
        #expect(Preconditions.evaluate(ifMatch: nil, ifUnmodifiedSince: nil, ifNoneMatch: "\"abc\"", ifModifiedSince: nil, validators: v) == .notModified)
        #expect(Preconditions.evaluate(ifMatch: nil, ifUnmodifiedSince: nil, ifNoneMatch: "W/\"abc\", \"x\"", ifModifiedSince: nil, validators: v) == .notModified)
        #expect(Preconditions.evaluate(ifMatch: nil, ifUnmodifiedSince: nil, ifNoneMatch: "\"other\"",
                                       ifModifiedSince: HTTPDate.format(1_800_000_000)[...], validators: v) == .proceed)
        #expect(Preconditions.evaluate(ifMatch: nil, ifUnmodifiedSince: nil, ifNoneMatch: nil,
                                       ifModifiedSince: HTTPDate.format(1_700_000_000)[...], validators: v) == .notModified)
        #expect(Preconditions.evaluate(ifMatch: nil, ifUnmodifiedSince: nil, ifNoneMatch: nil,
                                       ifModifiedSince: HTTPDate.format(1_600_000_000)[...], validators: v) == .proceed)
        #expect(Preconditions.evaluate(ifMatch: "\"zzz\"", ifUnmodifiedSince: nil, ifNoneMatch: nil, ifModifiedSince: nil, validators: v) == .failed)
        #expect(Preconditions.evaluate(ifMatch: "W/\"abc\"", ifUnmodifiedSince: nil, ifNoneMatch: nil, ifModifiedSince: nil, validators: v) == .failed)
    }

    @Test func httpDatesRoundTrip() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == nil)
        #expect(HTTPDate.parse("garbage") == nil)
    }
}

/// What a key's last segment decides: its media type, and whether the gateway may
/// generate the document instead of serving the stored bytes.
@Suite struct KeyNameTests {
    @Test func mediaTypeFollowsTheLastSegment() {
        #expect(ContentType.of("img/0/zarr.json") == "application/json")
        #expect(ContentType.of(".zarray") == "application/json")
        #expect(ContentType.of("img/OME/METADATA.ome.xml") == "application/xml")
        #expect(ContentType.of("img/0/c/0/0") == "application/octet-stream")
        #expect(ContentType.of("img/.zarray/0") == "application/octet-stream")
    }

    @Test func onlyConsolidatedDocumentsMayBeGenerated() {
        #expect(ConsolidatedMetadata.mayGenerate("img/.zmetadata") && ConsolidatedMetadata.mayGenerate("zarr.json"))
        #expect(!ConsolidatedMetadata.mayGenerate("img/zarr.jsonx") && !ConsolidatedMetadata.mayGenerate("zarr.json/0"))
        #expect(!ConsolidatedMetadata.mayGenerate("img/x.zmetadata"))
    }
}
