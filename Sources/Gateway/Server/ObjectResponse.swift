import Hummingbird
import NIOCore

/// The answer for one object: preconditions (304/412), then the range (206/416), then
/// the headers every reader relies on (CONFORMANCE.md, "Serving over HTTP").
enum ObjectResponse {
    static func make(_ object: any OpenedObject, key: String, request: Request, cacheControl: String) async -> Response {
        let v = object.validators
        var headers: HTTPFields = [
            .eTag: v.etag,
            .cacheControl: cacheControl,
            .acceptRanges: "bytes",
        ]
        if let modified = v.lastModified { headers[.lastModified] = HTTPDate.format(modified) }
        let h = request.headers
        switch Preconditions.evaluate(
            ifMatch: h[.ifMatch].map { $0[...] }, ifUnmodifiedSince: h[.ifUnmodifiedSince].map { $0[...] },
            ifNoneMatch: h[.ifNoneMatch].map { $0[...] }, ifModifiedSince: h[.ifModifiedSince].map { $0[...] },
            validators: v
        ) {
        case .notModified: return Response(status: .notModified, headers: headers)
        case .failed:
            headers[.contentLength] = "0"
            return Response(status: .preconditionFailed, headers: headers)
        case .proceed: break
        }
        headers[.contentType] = ContentType.of(key[...])

        var rangeRequest = RangeRequest(header: h[.range].map { $0[...] })
        if let ifRange = h[.ifRange], !Preconditions.ifRangeHolds(ifRange[...], v) { rangeRequest = .none }
        var status = HTTPResponse.Status.ok
        var span = 0..<object.size
        switch rangeRequest.resolve(size: object.size) {
        case nil: break
        case .failure?:
            headers[.contentRange] = "bytes */\(object.size)"
            headers[.contentLength] = "0"
            headers[.contentType] = nil
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case let .success(range)?:
            status = .partialContent
            span = range
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)"
        }
        headers[.contentLength] = String(span.count)
        if request.method == .head { return Response(status: status, headers: headers) }
        do {
            return Response(status: status, headers: headers, body: try await object.body(span))
        } catch {
            let message = ByteBuffer(string: "cannot read \(key): \(error)\n")
            return Response(status: .badGateway, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: message))
        }
    }
}
