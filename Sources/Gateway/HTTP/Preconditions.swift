import Storage

/// What a stored object offers for validation: a strong entity tag and its modification
/// time (whole seconds, as HTTP dates carry them).
public struct Validators: Sendable, Equatable {
    /// Quoted, e.g. `"1a2b-400-17f0c"`.
    public var etag: String
    public let lastModified: Int?
    /// `lastModified` as an HTTP date, formatted once (a cached open file answers many
    /// requests with it).
    public let lastModifiedText: String?

    public init(etag: String, lastModified: Int?) {
        self.etag = etag
        self.lastModified = lastModified
        lastModifiedText = lastModified.map(HTTPDate.format)
    }
}

/// RFC 9110 §13 conditional requests, evaluated in the order the RFC gives.
public enum Preconditions {
    public enum Outcome: Equatable, Sendable { case proceed, notModified, failed }

    public static func evaluate(
        ifMatch: Substring?, ifUnmodifiedSince: Substring?,
        ifNoneMatch: Substring?, ifModifiedSince: Substring?,
        validators: Validators
    ) -> Outcome {
        if let ifMatch {
            if !matches(ifMatch, validators.etag, weak: false) { return .failed }
        } else if let ifUnmodifiedSince, let since = HTTPDate.parse(ifUnmodifiedSince),
                  let modified = validators.lastModified, modified > since {
            return .failed
        }
        if let ifNoneMatch {
            if matches(ifNoneMatch, validators.etag, weak: true) { return .notModified }
        } else if let ifModifiedSince, let since = HTTPDate.parse(ifModifiedSince),
                  let modified = validators.lastModified, modified <= since {
            return .notModified
        }
        return .proceed
    }

    /// Whether a list of entity tags (or `*`) names `etag`. If-None-Match compares
    /// weakly (a `W/` prefix is ignored); If-Match strongly.
    static func matches(_ list: Substring, _ etag: String, weak: Bool) -> Bool {
        for item in list.split(separator: ",") {
            var tag = item.trimmingSpaces
            if tag == "*" { return true }
            if tag.hasPrefix("W/") {
                guard weak else { continue }
                tag = tag.dropFirst(2)
            }
            if tag == etag[...] { return true }
        }
        return false
    }

    /// `If-Range`: the range applies only if the validator still names this object.
    static func ifRangeHolds(_ value: Substring, _ validators: Validators) -> Bool {
        let v = value.trimmingSpaces
        if v.hasPrefix("\"") { return v == validators.etag[...] }
        guard let date = HTTPDate.parse(v), let modified = validators.lastModified else { return false }
        return modified == date
    }
}
