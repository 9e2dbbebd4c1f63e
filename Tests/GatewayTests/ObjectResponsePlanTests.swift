import Storage
import HTTPTypes
import Testing
@testable import Gateway

/// `ObjectResponse.plan` decides every object answer on both paths: preconditions first
/// (304/412), then the range (206/416), then the headers; the body span is what is sent.
@Suite struct ObjectResponsePlanTests {
    static let tag = "\"a1-3e8-5f\""
    static let modified = 1_700_000_000
    static let size = 1000
    let validators = Validators(etag: tag, lastModified: modified)

    func plan(_ fields: [RequestFields.Name: String] = [:], method: HTTPRequest.Method = .get, size: Int = Self.size,
              key: String = "img/0/c/0/0") -> ObjectResponse.Plan {
        var request = RequestFields()
        for (name, value) in fields { request.append(value, to: name) }
        return ObjectResponse.plan(size: size, validators: validators, key: key, method: method, headers: request,
                                   cacheControl: "public, max-age=60")
    }

    func fields(_ plan: ObjectResponse.Plan) -> [String] {
        var out: [String] = []
        plan.forEachField { out.append("\($0.rawName): \($1)") }
        return out
    }

    @Test func wholeObject() {
        let p = plan()
        #expect(p.status == .ok)
        #expect(p.body == 0..<1000)
        #expect(fields(p) == [
            "ETag: \(Self.tag)", "Cache-Control: public, max-age=60", "Accept-Ranges: bytes",
            "Last-Modified: \(HTTPDate.format(Self.modified))", "Content-Type: application/octet-stream",
            "Content-Length: 1000",
        ])
    }

    @Test func headHasTheHeadersAndNoBody() {
        let p = plan(method: .head)
        #expect(p.status == .ok)
        #expect(p.body == nil)
        #expect(fields(p) == fields(plan()))
        let ranged = plan([.range: "bytes=10-19"], method: .head)
        #expect(ranged.status == .partialContent)
        #expect(ranged.body == nil)
        #expect(ranged.contentLength == 10)
        #expect(ranged.contentRange == "bytes 10-19/1000")
    }

    @Test func metadataIsJSON() {
        #expect(plan(key: "img/zarr.json").contentType == "application/json")
        #expect(plan(key: "img/.zarray").contentType == "application/json")
    }

    @Test(arguments: [
        ("bytes=10-19", 10..<20, "bytes 10-19/1000"),
        ("bytes=0-0", 0..<1, "bytes 0-0/1000"),
        ("bytes=990-", 990..<1000, "bytes 990-999/1000"), // open
        ("bytes=900-5000", 900..<1000, "bytes 900-999/1000"), // past the end: up to the end
        ("bytes=-100", 900..<1000, "bytes 900-999/1000"), // suffix
        ("bytes=-5000", 0..<1000, "bytes 0-999/1000"), // suffix longer than the object
        ("Bytes=0-9", 0..<10, "bytes 0-9/1000"), // the unit in any case
    ])
    func ranges(_ header: String, _ span: Range<Int>, _ contentRange: String) {
        let p = plan([.range: header])
        #expect(p.status == .partialContent)
        #expect(p.body == span)
        #expect(p.contentRange == contentRange)
        #expect(p.contentLength == span.count)
        #expect(fields(p).suffix(2) == ["Content-Range: \(contentRange)", "Content-Length: \(span.count)"])
    }

    @Test(arguments: [
        "bytes=1000-", // starts at the end
        "bytes=5000-6000",
        "bytes=-0",
        "bytes=0-1,5-6", // several ranges are answered 416, never with a 200
        "bytes=5-1",
        "bytes=x-y",
        "bytes 0-9",
    ])
    func unsatisfiable(_ header: String) {
        let p = plan([.range: header])
        #expect(p.status == .rangeNotSatisfiable)
        #expect(p.body == nil)
        #expect(p.contentRange == "bytes */1000")
        #expect(p.contentLength == 0)
        #expect(p.contentType == nil)
    }

    @Test func anEmptyObjectHasNoRangeToSend() {
        #expect(plan([.range: "bytes=0-"], size: 0).status == .rangeNotSatisfiable)
        #expect(plan([.range: "bytes=-10"], size: 0).status == .rangeNotSatisfiable)
        let whole = plan(size: 0)
        #expect(whole.status == .ok)
        #expect(whole.body == 0..<0)
        #expect(whole.contentLength == 0)
    }

    @Test func otherUnitsAreIgnored() {
        let p = plan([.range: "items=0-9"])
        #expect(p.status == .ok)
        #expect(p.body == 0..<1000)
        #expect(p.contentRange == nil)
    }

    @Test func notModifiedDescribesTheObjectWithoutABody() {
        for fieldsSent in [[RequestFields.Name.ifNoneMatch: Self.tag],
                           [.ifModifiedSince: HTTPDate.format(Self.modified)],
                           [.ifNoneMatch: Self.tag, .range: "bytes=0-9"]] { // before the range
            let p = plan(fieldsSent)
            #expect(p.status == .notModified)
            #expect(p.body == nil)
            #expect(p.contentLength == nil)
            #expect(fields(p) == ["ETag: \(Self.tag)", "Cache-Control: public, max-age=60", "Accept-Ranges: bytes",
                                  "Last-Modified: \(HTTPDate.format(Self.modified))"])
        }
        #expect(plan([.ifNoneMatch: Self.tag], method: .head).status == .notModified)
    }

    @Test func preconditionFailed() {
        for fieldsSent in [[RequestFields.Name.ifMatch: "\"other\""],
                           [.ifUnmodifiedSince: HTTPDate.format(Self.modified - 1)],
                           [.ifMatch: "\"other\"", .range: "bytes=0-9"], // before the range
                           [.ifMatch: "\"other\"", .ifNoneMatch: Self.tag]] { // before If-None-Match
            let p = plan(fieldsSent)
            #expect(p.status == .preconditionFailed)
            #expect(p.body == nil)
            #expect(p.contentLength == 0)
            #expect(p.contentRange == nil)
        }
    }

    @Test func ifRangeDecidesWhetherTheRangeApplies() {
        let current = plan([.range: "bytes=0-9", .ifRange: Self.tag])
        #expect(current.status == .partialContent)
        #expect(current.body == 0..<10)
        let byDate = plan([.range: "bytes=0-9", .ifRange: HTTPDate.format(Self.modified)])
        #expect(byDate.status == .partialContent)
        for stale in ["\"other\"", "W/\(Self.tag)", HTTPDate.format(Self.modified - 1)] {
            let p = plan([.range: "bytes=0-9", .ifRange: stale])
            #expect(p.status == .ok) // the whole, current object instead
            #expect(p.body == 0..<1000)
            #expect(p.contentRange == nil)
        }
        // A stale If-Range also drops a range that could not be satisfied.
        #expect(plan([.range: "bytes=5000-", .ifRange: "\"other\""]).status == .ok)
        // If-Range alone changes nothing.
        #expect(plan([.ifRange: "\"other\""]).status == .ok)
    }
}
