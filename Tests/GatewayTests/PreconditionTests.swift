import Testing
@testable import Gateway

/// `Preconditions`: conditional request headers against an object's validators.
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
}
