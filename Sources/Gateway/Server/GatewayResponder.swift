import Foundation
import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the peer address for the log.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Kept to name the peer in the access log, and asked only when a line is written.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var remote: String { channel.remoteAddress?.ipAddress ?? "-" }
}

/// Every request goes through `respond`: route, authorise, answer, then one log line and
/// the metrics. No router: the gateway has three kinds of path and decodes them itself
/// (RequestPath), which keeps hostile paths away from any generic normalisation.
public struct GatewayResponder: HTTPResponder {
    public typealias Context = GatewayRequestContext
    let gateway: Gateway

    public init(gateway: Gateway) { self.gateway = gateway }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        gateway.metrics.started()
        let target = RequestPath.parse(request.uri.path[...])
        var rootLabel = "-"
        if case let .object(root, _, _) = target, gateway.roots[root] != nil { rootLabel = root }
        var response = await answer(request, target)
        addCORS(&response, request)
        let bytes = request.method == .head ? 0 : response.body.contentLength ?? 0
        let elapsed = ContinuousClock.now - start
        gateway.metrics.finished(method: request.method.rawValue, status: response.status.code, root: rootLabel,
                                 bytes: bytes, duration: elapsed)
        if let log = gateway.accessLog {
            log.write(.init(
                time: time(nil), remote: context.remote, method: request.method.rawValue,
                path: request.uri.string, range: request.headers[.range], status: response.status.code, bytes: bytes,
                micros: Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000),
                root: rootLabel == "-" ? nil : rootLabel
            ))
        }
        return response
    }

    private func answer(_ request: Request, _ target: RequestTarget) async -> Response {
        switch request.method {
        case .get, .head: break
        case .options: return Response(status: .noContent, headers: preflightHeaders(request))
        default: return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD, OPTIONS"])
        }
        let identity = gateway.policy.isEnabled ? await gateway.policy.identify(request.headers[.authorization].map { $0[...] }) : .anonymous
        switch target {
        case .health:
            return text(.ok, "ok\n", request)
        case .metrics:
            // Series carry root names, so with auth on they are for authenticated callers only.
            if gateway.policy.isEnabled, case .member = identity {} else if gateway.policy.isEnabled { return unauthorized() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4", .cacheControl: "no-store"],
                            body: request.method == .head ? .init() : .init(byteBuffer: ByteBuffer(bytes: gateway.metrics.exposition())))
        case .rejected:
            return notFound()
        case let .object(rootName, key, isFolder):
            let root = gateway.roots[rootName]
            if gateway.policy.isEnabled {
                switch gateway.policy.decide(root?.rule, for: identity) {
                case .allow: break
                case .unauthorized: return unauthorized()
                case .hidden: return notFound()
                }
            }
            guard let root else { return notFound() }
            do {
                if isFolder || key.isEmpty {
                    return try await folder(root, rootName: rootName, key: key, request)
                }
                guard let object = try await resolve(root, rootName: rootName, key: key) else { return notFound() }
                return await ObjectResponse.make(object, key: key, request: request, cacheControl: gateway.cacheControl)
            } catch {
                return text(.badGateway, "cannot read \(rootName)/\(key): \(error)\n", request)
            }
        }
    }

    /// The stored object, or a generated consolidated document standing in for it.
    private func resolve(_ root: Gateway.ServedRoot, rootName: String, key: String) async throws -> (any OpenedObject)? {
        let stored = try await root.source.open(key)
        guard gateway.consolidate else { return stored }
        let slash = key.lastIndex(of: "/")
        let name = slash.map { key[key.index(after: $0)...] } ?? key[...]
        let folder = slash.map { String(key[..<$0]) } ?? ""
        if name == ".zmetadata", stored == nil {
            return try await gateway.generated.document("\(rootName)\0\(key)") {
                try await ConsolidatedMetadata.v2(root.source, group: folder)
            }
        }
        if name == "zarr.json", let stored, stored.size < 1 << 20 {
            let generated = try await gateway.generated.document("\(rootName)\0\(key)\0\(stored.validators.etag)") {
                guard let bytes = try await root.source.readAll(key) else { return nil }
                return try await ConsolidatedMetadata.v3Inline(root.source, group: folder, document: bytes)
            }
            return generated ?? stored
        }
        return stored
    }

    private func folder(_ root: Gateway.ServedRoot, rootName: String, key: String, _ request: Request) async throws -> Response {
        guard gateway.listing, let listing = try await root.source.listFolder(key) else { return notFound() }
        let document: [String: Any] = [
            "folders": listing.folders,
            "objects": listing.objects.map { ["key": $0.key, "size": $0.size] as [String: Any] },
        ]
        let bytes = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return await ObjectResponse.make(MemoryObject(Array(bytes)), key: "listing.json", request: request, cacheControl: "no-cache")
    }

    // MARK: Small answers

    private func notFound() -> Response {
        Response(status: .notFound, headers: [.contentLength: "0"])
    }

    private func unauthorized() -> Response {
        Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"tessera\"", .contentLength: "0"])
    }

    private func text(_ status: HTTPResponse.Status, _ message: String, _ request: Request) -> Response {
        let buffer = ByteBuffer(string: message)
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"]
        if request.method == .head {
            headers[.contentLength] = String(buffer.readableBytes)
            return Response(status: status, headers: headers)
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }

    // MARK: CORS

    /// The allowed origin for this request, or nil when CORS does not apply to it.
    private func allowedOrigin(_ request: Request) -> String? {
        if gateway.corsOrigins.contains("*") { return "*" }
        guard let origin = request.headers[.origin], gateway.corsOrigins.contains(origin) else { return nil }
        return origin
    }

    private func addCORS(_ response: inout Response, _ request: Request) {
        guard let origin = allowedOrigin(request) else { return }
        response.headers[.accessControlAllowOrigin] = origin
        if origin != "*" { response.headers[.vary] = "Origin" }
        if request.method != .options {
            response.headers[.accessControlExposeHeaders] = "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"
        }
    }

    /// A preflight answer identical for every path, existing or not, hidden or not: a
    /// browser sends no credentials with it, so it must not depend on them, and it
    /// reveals nothing about what is served.
    private func preflightHeaders(_ request: Request) -> HTTPFields {
        var headers: HTTPFields = [.allow: "GET, HEAD, OPTIONS", .contentLength: "0"]
        guard allowedOrigin(request) != nil else { return headers }
        headers[.accessControlAllowMethods] = "GET, HEAD, OPTIONS"
        // Echo what the browser asks for (Range, Authorization, If-None-Match, …), limited
        // to header-name characters; `*` would not cover Authorization.
        let asked = request.headers[.accessControlRequestHeaders] ?? ""
        let safe = asked.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "," || $0 == " " }
        headers[.accessControlAllowHeaders] = safe.isEmpty ? "Range, Authorization, If-None-Match, If-Modified-Since" : safe
        headers[.accessControlMaxAge] = "86400"
        return headers
    }
}
