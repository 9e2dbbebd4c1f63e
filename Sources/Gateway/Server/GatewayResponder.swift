import HTTPTypes
import Hummingbird
import NIOCore
import ZarrCore

/// The request context: Hummingbird's core storage plus the peer address for the log.
extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}

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
        defer { gateway.metrics.ended() }
        let target = RequestPath.parse(request.uri.path[...])
        var rootLabel = "-"
        if case let .object(root, _, _) = target, gateway.roots[root] != nil { rootLabel = root }
        let fields = RequestFields(request.headers)
        var response = await answer(request, target, fields)
        var named: String?
        if case let .object(root, _, _) = target { named = root }
        gateway.addSharedFields(&response.headers, origin: fields.origin, method: request.method,
                                credentials: target != .health && gateway.needsCredentials(named))
        gateway.record(method: request.method, path: request.uri.string, range: fields.range,
                       status: response.status.code, bytes: request.method == .head ? 0 : response.body.contentLength ?? 0,
                       root: rootLabel, since: start, remote: context.remote)
        return response
    }

    private func answer(_ request: Request, _ target: RequestTarget, _ fields: RequestFields) async -> Response {
        switch request.method {
        case .get, .head: break
        case .options: return Response(status: .noContent, headers: gateway.preflightHeaders(request.headers))
        default: return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD, OPTIONS"])
        }
        let identity = gateway.policy.isEnabled ? await gateway.policy.identify(fields.authorization?[...]) : .anonymous
        switch target {
        case .health:
            return text(.ok, "ok\n", request)
        case .metrics:
            // Series carry root names, so with auth on they are for authenticated callers only.
            if gateway.policy.isEnabled && !identity.isMember { return unauthorized() }
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
            let isPrivate = gateway.needsCredentials(rootName)
            do {
                if let view = root.v2, let viewKey = V2ViewRoute.viewKey(key) {
                    return try await v2Answer(view, rootName: rootName, key: viewKey, isFolder: isFolder, request.method,
                                              fields, isPrivate: isPrivate)
                }
                if isFolder || key.isEmpty {
                    return try await folder(root, rootName: rootName, key: key, request.method, fields, isPrivate: isPrivate)
                }
                guard let object = try await resolve(root, rootName: rootName, key: key) else { return notFound() }
                return try await ObjectResponse.make(object, key: key, method: request.method, fields: fields,
                                                     cacheControl: isPrivate ? gateway.privateCacheControl : gateway.cacheControl)
            } catch {
                return failure(error, reading: "\(rootName)/\(key)", request)
            }
        }
    }

    /// The stored object, or a generated consolidated document standing in for it.
    private func resolve(_ root: Gateway.ServedRoot, rootName: String, key: String) async throws -> (any OpenedObject)? {
        let stored = try await root.source.open(key)
        guard gateway.consolidate, ConsolidatedMetadata.mayGenerate(key) else { return stored }
        let (folder, name) = ConsolidatedMetadata.split(key)
        let store = root.store, limits = gateway.consolidationLimits
        if name == ZarrKeys.consolidated, stored == nil {
            return try await gateway.generated.document("\(rootName)\0\(key)") {
                try await ConsolidatedMetadata.v2(store, group: folder, limits: limits)
            }
        }
        if name == ZarrKeys.v3, let stored, stored.size <= limits.documentBytes {
            let generated = try await gateway.generated.document("\(rootName)\0\(key)\0\(stored.validators.etag)") {
                try await ConsolidatedMetadata.v3Inline(store, group: folder, document: try await stored.readAll(), limits: limits)
            }
            return generated ?? stored
        }
        return stored
    }

    /// An answer from the root's Zarr v2 view: a generated `.zmetadata`, a document or an
    /// inner chunk (`V2ViewStore`), or a listing. A node the view does not offer is a 404,
    /// its reason in the server's log.
    private func v2Answer(_ view: V2ViewStore, rootName: String, key: String, isFolder: Bool, _ method: HTTPRequest.Method,
                          _ fields: RequestFields, isPrivate: Bool) async throws -> Response {
        let cacheControl = isPrivate ? gateway.privateCacheControl : gateway.cacheControl
        let object: MemoryObject?
        do {
            object = try await V2ViewRoute.object(view, rootName: rootName, key: key, isFolder: isFolder, gateway: gateway)
        } catch let refusal as V2ViewRefusal {
            _ = gateway.errors.record("\(rootName)/v2/\(key): \(refusal)")
            return notFound()
        }
        guard let object else { return notFound() }
        if isFolder || key.isEmpty {
            return try await ObjectResponse.make(object, key: "listing.json", method: method, fields: fields,
                                                 cacheControl: isPrivate ? "private, no-cache" : "no-cache")
        }
        return try await ObjectResponse.make(object, key: key, method: method, fields: fields, cacheControl: cacheControl)
    }

    private func folder(_ root: Gateway.ServedRoot, rootName: String, key: String, _ method: HTTPRequest.Method,
                        _ fields: RequestFields, isPrivate: Bool) async throws -> Response {
        guard gateway.listing, let listing = try await root.source.listFolder(key) else { return notFound() }
        let bytes = try FolderListingDocument(listing).encoded()
        return try await ObjectResponse.make(MemoryObject(bytes), key: "listing.json", method: method, fields: fields,
                                             cacheControl: isPrivate ? "private, no-cache" : "no-cache")
    }

    // MARK: Small answers

    private func notFound() -> Response {
        Response(status: .notFound, headers: [.contentLength: "0"])
    }

    private func unauthorized() -> Response {
        Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"tessera\"", .contentLength: "0"])
    }

    /// A request that failed on the server's side: the client learns a request id, the
    /// server's log what failed where. Out of descriptors is a 503 worth retrying.
    private func failure(_ error: any Error, reading what: String, _ request: Request) -> Response {
        let id = gateway.errors.record("cannot read \(what): \(error)")
        let exhausted = error is DescriptorsExhausted
        var response = text(exhausted ? .serviceUnavailable : .badGateway,
                            (exhausted ? "server busy" : "storage error") + "; request id \(id)\n", request)
        response.headers[.xRequestID] = id
        if exhausted { response.headers[.retryAfter] = "1" }
        return response
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
}
