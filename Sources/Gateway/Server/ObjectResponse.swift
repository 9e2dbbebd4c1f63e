import HTTPTypes
import Hummingbird
import NIOCore

/// The answer for one object: preconditions (304/412), then the range (206/416), then
/// the headers every reader relies on (Docs/conformance.md, "Serving over HTTP"). `plan`
/// decides everything but the body, so the Hummingbird responder and the event-loop
/// fast path (`Gateway.fastAnswer`) answer identically; each renders the same fields
/// (`forEachField`), one into HTTPFields, the other straight into wire bytes.
enum ObjectResponse {
    struct Plan {
        var status: HTTPResponse.Status
        var validators: Validators
        var cacheControl: String
        var contentType: String?
        /// `bytes a-b/size` for a 206, `bytes */size` for a 416.
        var contentRange: String?
        /// Absent on a 304, which describes the stored object, not a body.
        var contentLength: Int?
        /// The bytes to send, or nil for a body-less answer (304, 412, 416, HEAD).
        var body: Range<Int>?

        /// The response fields, in the order they are sent.
        func forEachField(_ emit: (HTTPField.Name, String) -> Void) {
            emit(.eTag, validators.etag)
            emit(.cacheControl, cacheControl)
            emit(.acceptRanges, "bytes")
            if let modified = validators.lastModifiedText { emit(.lastModified, modified) }
            if let contentType { emit(.contentType, contentType) }
            if let contentRange { emit(.contentRange, contentRange) }
            if let contentLength { emit(.contentLength, String(contentLength)) }
        }

        var headers: HTTPFields {
            var fields = HTTPFields()
            forEachField { fields.append(HTTPField(name: $0, value: $1)) }
            return fields
        }
    }

    static func plan(size: Int, validators v: Validators, key: String, method: HTTPRequest.Method,
                     headers h: RequestFields, cacheControl: String) -> Plan {
        var plan = Plan(status: .ok, validators: v, cacheControl: cacheControl)
        switch Preconditions.evaluate(
            ifMatch: h.ifMatch?[...], ifUnmodifiedSince: h.ifUnmodifiedSince?[...],
            ifNoneMatch: h.ifNoneMatch?[...], ifModifiedSince: h.ifModifiedSince?[...],
            validators: v
        ) {
        case .notModified:
            plan.status = .notModified
            return plan
        case .failed:
            plan.status = .preconditionFailed
            plan.contentLength = 0
            return plan
        case .proceed: break
        }
        var rangeRequest = RangeRequest(header: h.range?[...])
        if let ifRange = h.ifRange, !Preconditions.ifRangeHolds(ifRange[...], v) { rangeRequest = .none }
        var span = 0..<size
        switch rangeRequest.resolve(size: size) {
        case nil: break
        case .failure?:
            plan.status = .rangeNotSatisfiable
            plan.contentRange = "bytes */\(size)"
            plan.contentLength = 0
            return plan
        case let .success(range)?:
            plan.status = .partialContent
            plan.contentRange = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
            span = range
        }
        plan.contentType = ContentType.of(key[...])
        plan.contentLength = span.count
        plan.body = method == .head ? nil : span
        return plan
    }

    /// Throws what reading the body's start throws; the caller answers it (without
    /// telling the client the server's paths).
    static func make(_ object: any OpenedObject, key: String, method: HTTPRequest.Method, fields: RequestFields,
                     cacheControl: String) async throws -> Response {
        let plan = plan(size: object.size, validators: object.validators, key: key, method: method,
                        headers: fields, cacheControl: cacheControl)
        guard let span = plan.body else { return Response(status: plan.status, headers: plan.headers) }
        return Response(status: plan.status, headers: plan.headers, body: try await object.body(span))
    }
}
