import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What every answer shares, whichever path produced it (the Hummingbird responder or
/// the event-loop fast path): CORS headers, and the metrics and access-log line.
extension Gateway {
    /// The allowed origin for a request, or nil when CORS does not apply to it.
    func allowedOrigin(_ origin: String?) -> String? {
        if allowsAnyOrigin { return "*" }
        guard let origin, corsOrigins.contains(origin) else { return nil }
        return origin
    }

    func addCORS(_ headers: inout HTTPFields, origin: String?, method: HTTPRequest.Method) {
        forEachCORSField(origin: origin, method: method) { headers[$0] = $1 }
    }

    /// The CORS fields of an answer (both answer paths render these).
    func forEachCORSField(origin: String?, method: HTTPRequest.Method, _ emit: (HTTPField.Name, String) -> Void) {
        Self.forEachCORSField(allowing: allowedOrigin(origin), method: method, emit)
    }

    /// The CORS fields of a GET or HEAD answer when every origin is allowed, and the
    /// fields every answer carries: they then depend on nothing in the request, so the
    /// fast path writes them rendered once.
    static func anyOriginCORSFields() -> ByteBuffer {
        var fields = ByteBuffer()
        forEachCORSField(allowing: "*", method: .get) { fields.writeField($0, $1) }
        fields.writeField(.xContentTypeOptions, "nosniff")
        return fields
    }

    private static func forEachCORSField(allowing origin: String?, method: HTTPRequest.Method,
                                         _ emit: (HTTPField.Name, String) -> Void) {
        guard let origin else { return }
        emit(.accessControlAllowOrigin, origin)
        if method != .options { emit(.accessControlExposeHeaders, Self.exposedHeaders) }
    }

    /// What an answer varies with besides its path: the Origin whenever only listed
    /// origins are allowed (the CORS fields then depend on it, sent or not), and the
    /// credentials for roots that need them, so a shared cache never hands one caller's
    /// answer to another. Nil when nothing.
    func vary(credentials: Bool) -> String? {
        switch (allowsAnyOrigin, credentials) {
        case (true, false): nil
        case (true, true): "Authorization"
        case (false, false): "Origin"
        case (false, true): "Origin, Authorization"
        }
    }

    /// The fields every responder answer gets besides its own: CORS, Vary, and
    /// `X-Content-Type-Options: nosniff` (a browser must never run a stored `.html` or
    /// `.svg` key as a page of the gateway's origin).
    func addSharedFields(_ headers: inout HTTPFields, origin: String?, method: HTTPRequest.Method, credentials: Bool) {
        addCORS(&headers, origin: origin, method: method)
        if let vary = vary(credentials: credentials && method != .options) { headers[.vary] = vary }
        headers[.xContentTypeOptions] = "nosniff"
    }

    static let exposedHeaders = "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"

    /// A preflight answer identical for every path, existing or not, hidden or not: a
    /// browser sends no credentials with it, so it must not depend on them, and it
    /// reveals nothing about what is served.
    func preflightHeaders(_ request: HTTPFields) -> HTTPFields {
        // With uploads on, a browser may also PUT (`/api/uploads/{name}`); still one answer for every path.
        let methods = uploads == nil ? "GET, HEAD, OPTIONS" : "GET, HEAD, OPTIONS, PUT"
        var headers: HTTPFields = [.allow: methods, .contentLength: "0"]
        guard allowedOrigin(request[.origin]) != nil else { return headers }
        headers[.accessControlAllowMethods] = methods
        // Echo what the browser asks for (Range, Authorization, If-None-Match, …), limited
        // to header-name characters; `*` would not cover Authorization.
        let asked = request[.accessControlRequestHeaders] ?? ""
        let safe = asked.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "," || $0 == " " }
        headers[.accessControlAllowHeaders] = safe.isEmpty ? "Range, Authorization, If-None-Match, If-Modified-Since" : safe
        headers[.accessControlMaxAge] = "86400"
        return headers
    }

    /// Metrics and the access-log line for one answered request.
    func record(method: HTTPRequest.Method, path: @autoclosure () -> String, range: String?, status: Int, bytes: Int,
                root: String, since start: ContinuousClock.Instant, remote: @autoclosure () -> String) {
        let elapsed = ContinuousClock.now - start
        metrics.finished(method: method.rawValue, status: status, root: root, bytes: bytes, duration: elapsed)
        guard let accessLog else { return }
        accessLog.write(.init(
            time: time(nil), remote: remote(), method: method.rawValue, path: path(), range: range,
            status: status, bytes: bytes,
            micros: Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000),
            root: root == "-" ? nil : root
        ))
    }
}
