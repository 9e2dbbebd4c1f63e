import HTTPTypes

/// The request header fields an object answer depends on: range, validators, origin and
/// credentials. Both answer paths read requests into this one shape (the responder from
/// HTTPFields, the fast path straight from the wire) and everything downstream —
/// `ObjectResponse.plan`, CORS, the access log — reads only this, so the two paths
/// cannot drift apart. Repeated fields are joined with ", " as RFC 9110 §5.3 allows.
struct RequestFields: Equatable {
    var range: String?
    var ifMatch: String?
    var ifNoneMatch: String?
    var ifModifiedSince: String?
    var ifUnmodifiedSince: String?
    var ifRange: String?
    var origin: String?
    var authorization: String?

    init() {}

    init(_ fields: HTTPFields) {
        range = fields[.range]
        ifMatch = fields[.ifMatch]
        ifNoneMatch = fields[.ifNoneMatch]
        ifModifiedSince = fields[.ifModifiedSince]
        ifUnmodifiedSince = fields[.ifUnmodifiedSince]
        ifRange = fields[.ifRange]
        origin = fields[.origin]
        authorization = fields[.authorization]
    }

    enum Name: CaseIterable {
        case range, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince, ifRange, origin, authorization

        var lowercased: String {
            switch self {
            case .range: "range"
            case .ifMatch: "if-match"
            case .ifNoneMatch: "if-none-match"
            case .ifModifiedSince: "if-modified-since"
            case .ifUnmodifiedSince: "if-unmodified-since"
            case .ifRange: "if-range"
            case .origin: "origin"
            case .authorization: "authorization"
            }
        }

        /// The field a lower-case header name stands for, or nil for one no answer reads.
        init?(lowercased name: some Collection<UInt8>) {
            guard let match = Name.allCases.first(where: { $0.lowercased.utf8.elementsEqual(name) }) else { return nil }
            self = match
        }
    }

    /// Adds one occurrence of a field.
    mutating func append(_ value: String, to name: Name) {
        func join(_ existing: inout String?) { existing = existing.map { $0 + ", " + value } ?? value }
        switch name {
        case .range: join(&range)
        case .ifMatch: join(&ifMatch)
        case .ifNoneMatch: join(&ifNoneMatch)
        case .ifModifiedSince: join(&ifModifiedSince)
        case .ifUnmodifiedSince: join(&ifUnmodifiedSince)
        case .ifRange: join(&ifRange)
        case .origin: join(&origin)
        case .authorization: join(&authorization)
        }
    }
}
