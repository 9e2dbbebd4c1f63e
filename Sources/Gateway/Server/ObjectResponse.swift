import Hummingbird
import NIOCore

/// The answer for one object: preconditions (304/412), then the range (206/416), then
/// the headers every reader relies on (CONFORMANCE.md, "Serving over HTTP"). `plan`
/// decides everything but the body, so the Hummingbird responder and the event-loop
/// fast path (FastFileHandler) answer identically.
enum ObjectResponse {
    struct Plan {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        /// The bytes to send, or nil for a body-less answer (304, 412, 416, HEAD).
        var body: Range<Int>?
    }

    static func plan(size: Int, validators v: Validators, key: String, method: HTTPRequest.Method,
                     headers h: HTTPFields, cacheControl: String) -> Plan {
        var headers: HTTPFields = [.eTag: v.etag, .cacheControl: cacheControl, .acceptRanges: "bytes"]
        if let modified = v.lastModified { headers[.lastModified] = HTTPDate.format(modified) }
        switch Preconditions.evaluate(
            ifMatch: h[.ifMatch].map { $0[...] }, ifUnmodifiedSince: h[.ifUnmodifiedSince].map { $0[...] },
            ifNoneMatch: h[.ifNoneMatch].map { $0[...] }, ifModifiedSince: h[.ifModifiedSince].map { $0[...] },
            validators: v
        ) {
        case .notModified: return Plan(status: .notModified, headers: headers, body: nil)
        case .failed:
            headers[.contentLength] = "0"
            return Plan(status: .preconditionFailed, headers: headers, body: nil)
        case .proceed: break
        }
        headers[.contentType] = ContentType.of(key[...])
        var rangeRequest = RangeRequest(header: h[.range].map { $0[...] })
        if let ifRange = h[.ifRange], !Preconditions.ifRangeHolds(ifRange[...], v) { rangeRequest = .none }
        var status = HTTPResponse.Status.ok
        var span = 0..<size
        switch rangeRequest.resolve(size: size) {
        case nil: break
        case .failure?:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            headers[.contentType] = nil
            return Plan(status: .rangeNotSatisfiable, headers: headers, body: nil)
        case let .success(range)?:
            status = .partialContent
            span = range
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
        }
        headers[.contentLength] = String(span.count)
        return Plan(status: status, headers: headers, body: method == .head ? nil : span)
    }

    static func make(_ object: any OpenedObject, key: String, request: Request, cacheControl: String) async -> Response {
        let plan = plan(size: object.size, validators: object.validators, key: key, method: request.method,
                        headers: request.headers, cacheControl: cacheControl)
        guard let span = plan.body else { return Response(status: plan.status, headers: plan.headers) }
        do {
            return Response(status: plan.status, headers: plan.headers, body: try await object.body(span))
        } catch {
            let message = ByteBuffer(string: "cannot read \(key): \(error)\n")
            return Response(status: .badGateway, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: message))
        }
    }
}
