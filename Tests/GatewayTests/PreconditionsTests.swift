import Storage
import Testing
@testable import Gateway

private let tag = "\"1a2b-400-17f0c\""
private let modified = 1_700_000_000
private func date(_ seconds: Int) -> String { HTTPDate.format(seconds) }

/// RFC 9110 §13 conditional requests as `Preconditions` evaluates them, in the order of
/// §13.2.2: If-Match (else If-Unmodified-Since) can fail a request (412) before
/// If-None-Match (else If-Modified-Since) can make it a 304; If-Range is asked only when a
/// range would be sent.
@Suite struct PreconditionsTests {
    let validators = Validators(etag: tag, lastModified: modified)

    func evaluate(ifMatch: String? = nil, ifUnmodifiedSince: String? = nil, ifNoneMatch: String? = nil,
                  ifModifiedSince: String? = nil, validators: Validators? = nil) -> Preconditions.Outcome {
        Preconditions.evaluate(ifMatch: ifMatch?[...], ifUnmodifiedSince: ifUnmodifiedSince?[...],
                               ifNoneMatch: ifNoneMatch?[...], ifModifiedSince: ifModifiedSince?[...],
                               validators: validators ?? self.validators)
    }

    @Test func noConditionsProceed() {
        #expect(evaluate() == .proceed)
    }

    @Test(arguments: [
        (tag, Preconditions.Outcome.notModified),
        ("\"other\", \(tag)", .notModified), // anywhere in a list
        ("\"other\",\(tag) ,\"third\"", .notModified), // spaces around items are not part of a tag
        ("*", .notModified),
        ("\"other\", *", .notModified),
        ("W/\(tag)", .notModified), // If-None-Match compares weakly
        ("\"other\", W/\"other\"", .proceed),
        ("\"other\"", .proceed),
        ("1a2b-400-17f0c", .proceed), // unquoted: not the tag
        ("", .proceed),
    ])
    func ifNoneMatch(_ header: String, _ outcome: Preconditions.Outcome) {
        #expect(evaluate(ifNoneMatch: header) == outcome)
    }

    @Test(arguments: [
        (tag, Preconditions.Outcome.proceed),
        ("\"other\", \(tag)", .proceed),
        ("*", .proceed),
        ("W/\(tag)", .failed), // If-Match compares strongly: a weak tag never matches
        ("\"other\"", .failed),
        ("\"other\", W/\(tag)", .failed),
    ])
    func ifMatch(_ header: String, _ outcome: Preconditions.Outcome) {
        #expect(evaluate(ifMatch: header) == outcome)
    }

    @Test(arguments: [
        (date(modified), Preconditions.Outcome.notModified),
        (date(modified + 3600), .notModified),
        (date(modified - 1), .proceed),
        ("yesterday", .proceed), // not an IMF-fixdate: ignored
    ])
    func ifModifiedSince(_ header: String, _ outcome: Preconditions.Outcome) {
        #expect(evaluate(ifModifiedSince: header) == outcome)
    }

    @Test func ifModifiedSinceNeedsAModificationTime() {
        let untimed = Validators(etag: tag, lastModified: nil)
        #expect(evaluate(ifModifiedSince: date(modified), validators: untimed) == .proceed)
        #expect(evaluate(ifUnmodifiedSince: date(modified - 1), validators: untimed) == .proceed)
    }

    @Test(arguments: [
        (date(modified - 1), Preconditions.Outcome.failed),
        (date(modified), .proceed),
        (date(modified + 1), .proceed),
        ("not a date", .proceed),
    ])
    func ifUnmodifiedSince(_ header: String, _ outcome: Preconditions.Outcome) {
        #expect(evaluate(ifUnmodifiedSince: header) == outcome)
    }

    @Test func ifNoneMatchOverridesIfModifiedSince() {
        // The tag differs, so the object counts as modified whatever the date says.
        #expect(evaluate(ifNoneMatch: "\"other\"", ifModifiedSince: date(modified + 60)) == .proceed)
        #expect(evaluate(ifNoneMatch: tag, ifModifiedSince: date(modified - 60)) == .notModified)
    }

    @Test func ifMatchOverridesIfUnmodifiedSince() {
        #expect(evaluate(ifMatch: tag, ifUnmodifiedSince: date(modified - 60)) == .proceed)
        #expect(evaluate(ifMatch: "\"other\"", ifUnmodifiedSince: date(modified + 60)) == .failed)
    }

    @Test func aFailedPreconditionWinsOverNotModified() {
        #expect(evaluate(ifMatch: "\"other\"", ifNoneMatch: tag) == .failed)
        #expect(evaluate(ifUnmodifiedSince: date(modified - 1), ifModifiedSince: date(modified)) == .failed)
        // Both hold: the request is then conditional on If-None-Match alone.
        #expect(evaluate(ifMatch: tag, ifNoneMatch: tag) == .notModified)
    }

    @Test(arguments: [
        (tag, true),
        (" \(tag) ", true),
        ("\"other\"", false),
        ("W/\(tag)", false), // If-Range needs a strong match
        (date(modified), true),
        (date(modified + 1), false), // the date must be exactly the modification time
        (date(modified - 1), false),
        ("garbage", false),
    ])
    func ifRange(_ header: String, _ holds: Bool) {
        #expect(Preconditions.ifRangeHolds(header[...], validators) == holds)
    }

    @Test func ifRangeWithADateNeedsAModificationTime() {
        let untimed = Validators(etag: tag, lastModified: nil)
        #expect(!Preconditions.ifRangeHolds(date(modified)[...], untimed))
        #expect(Preconditions.ifRangeHolds(tag[...], untimed))
    }

    /// The checks this suite began with (kept as they were written).
    @Test func ifNoneMatchWinsOverIfModifiedSince() {
        let v = Validators(etag: "\"abc\"", lastModified: 1_700_000_000)
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
