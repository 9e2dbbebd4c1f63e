import Foundation
import Hummingbird

/// What every answer shares, whichever path produced it (the Hummingbird responder or
/// the event-loop fast path): CORS headers, and the metrics and access-log line.
extension Gateway {
    /// The allowed origin for a request, or nil when CORS does not apply to it.
    func allowedOrigin(_ request: HTTPFields) -> String? {
        if corsOrigins.contains("*") { return "*" }
        guard let origin = request[.origin], corsOrigins.contains(origin) else { return nil }
        return origin
    }

    func addCORS(_ headers: inout HTTPFields, request: HTTPFields, method: HTTPRequest.Method) {
        guard let origin = allowedOrigin(request) else { return }
        headers[.accessControlAllowOrigin] = origin
        if origin != "*" { headers[.vary] = "Origin" }
        if method != .options {
            headers[.accessControlExposeHeaders] = "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"
        }
    }

    /// A preflight answer identical for every path, existing or not, hidden or not: a
    /// browser sends no credentials with it, so it must not depend on them, and it
    /// reveals nothing about what is served.
    func preflightHeaders(_ request: HTTPFields) -> HTTPFields {
        var headers: HTTPFields = [.allow: "GET, HEAD, OPTIONS", .contentLength: "0"]
        guard allowedOrigin(request) != nil else { return headers }
        headers[.accessControlAllowMethods] = "GET, HEAD, OPTIONS"
        // Echo what the browser asks for (Range, Authorization, If-None-Match, …), limited
        // to header-name characters; `*` would not cover Authorization.
        let asked = request[.accessControlRequestHeaders] ?? ""
        let safe = asked.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "," || $0 == " " }
        headers[.accessControlAllowHeaders] = safe.isEmpty ? "Range, Authorization, If-None-Match, If-Modified-Since" : safe
        headers[.accessControlMaxAge] = "86400"
        return headers
    }

    /// Metrics and the access-log line for one answered request.
    func record(method: HTTPRequest.Method, path: String, requestHeaders: HTTPFields, status: Int, bytes: Int,
                root: String, since start: ContinuousClock.Instant, remote: @autoclosure () -> String) {
        let elapsed = ContinuousClock.now - start
        metrics.finished(method: method.rawValue, status: status, root: root, bytes: bytes, duration: elapsed)
        guard let accessLog else { return }
        accessLog.write(.init(
            time: time(nil), remote: remote(), method: method.rawValue, path: path, range: requestHeaders[.range],
            status: status, bytes: bytes,
            micros: Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000),
            root: root == "-" ? nil : root
        ))
    }
}
