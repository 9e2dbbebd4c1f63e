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
        if case let .render(_, root, _) = target, gateway.roots[root] != nil { rootLabel = root }
        let fields = RequestFields(request.headers)
        var response = await answer(request, target, fields, channel: context.channel)
        let credentials: Bool = switch target {
        case .health: false
        case .api, .browseIndex, .browse: true // what a search or a dataset shows depends on the caller
        case let .object(root, _, _), let .render(_, root, _):
            gateway.roots[root] == nil ? gateway.needsCredentials(nil) : gateway.variesWithCredentials(root)
        default: gateway.needsCredentials(nil)
        }
        gateway.addSharedFields(&response.headers, origin: fields.origin, method: request.method, credentials: credentials)
        gateway.record(method: request.method, path: request.uri.string, range: fields.range,
                       status: response.status.code, bytes: request.method == .head ? 0 : response.body.contentLength ?? 0,
                       root: rootLabel, since: start, remote: context.remote)
        return response
    }

    private func answer(_ request: Request, _ target: RequestTarget, _ fields: RequestFields, channel: any Channel) async -> Response {
        switch request.method {
        case .get, .head: break
        case .options: return Response(status: .noContent, headers: gateway.preflightHeaders(request.headers))
        case .put:
            if let uploads = gateway.uploads, let name = UploadRoute.name(in: request.uri.path) {
                let identity = await gateway.policy.identify(fields.authorization?[...])
                return await UploadRoute(gateway: gateway, uploads: uploads, channel: channel).answer(request, name: name, identity: identity)
            }
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD, OPTIONS"])
        default: return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD, OPTIONS"])
        }
        let identity = gateway.policy.isEnabled ? await gateway.policy.identify(fields.authorization?[...]) : .anonymous
        switch target {
        case .health:
            return text(.ok, "ok\n", request)
        case .metrics:
            // Series carry root names, so with auth on they are for authenticated callers only;
            // those naming groups and uploaders follow /api/status's rule (StatusRoute.audience).
            let status = StatusRoute(gateway: gateway)
            let audience = status.audience(identity)
            if audience == .nobody { return unauthorized() }
            await status.refreshMetricsIfStale()
            let exposition = gateway.metrics.exposition(withNames: audience == .everything)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4", .cacheControl: "no-store"],
                            body: request.method == .head ? .init() : .init(byteBuffer: ByteBuffer(bytes: exposition)))
        case .rejected:
            return notFound()
        case let .api(path):
            let query: [(name: String, value: String)]
            do { query = try QueryString.parse(request.uri.query.map { $0[...] }) } catch {
                return JSONAnswer.error(.badRequest, error.message, parameter: error.parameter, request.method)
            }
            return await APIRoutes(gateway: gateway).answer(path, query: query, method: request.method, identity: identity)
        case .browseIndex:
            guard let index = gateway.browseIndex else { return notFound() }
            if identity == .refused { return unauthorized() }
            return await BrowseRoute(gateway: gateway, index: index).home(query: request.uri.query, host: request.head.authority,
                                                                         method: request.method, identity: identity)
        case let .browse(rootName, image):
            guard let index = gateway.browseIndex else { return notFound() }
            if identity == .refused { return unauthorized() }
            if rootName == "style.css" && image.isEmpty {
                return SiteRoute(gateway: gateway).stylesheet(method: request.method, fields: fields)
            }
            return await BrowseRoute(gateway: gateway, index: index).dataset(rootName: rootName, image: image,
                                                                            host: request.head.authority,
                                                                            method: request.method, identity: identity)
        case let .site(site, file, isFolder):
            return SiteRoute(gateway: gateway).answer(site, file: file, isFolder: isFolder, method: request.method, fields: fields)
        case let .render(kind, rootName, image):
            return await RenderRoute(gateway: gateway).answer(kind, rootName: rootName, image: image, query: request.uri.query,
                                                              method: request.method, fields: fields, identity: identity)
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
            // The catalogue's word comes before anything about the object (existence,
            // validators, ranges, errors) is looked at: a hidden key is a missing key.
            let view = root.v2.flatMap { view in V2ViewRoute.viewKey(key).map { (view, $0) } }
            let access = datasetScope(rootName, root: root, key: view?.1 ?? key, isFolder: isFolder, identity)
            if let refusal = access.refusal { return refusal }
            let isPrivate = gateway.isPrivate(rootName, key: key)
            do {
                if let (view, viewKey) = view {
                    return try await v2Answer(view, rootName: rootName, key: viewKey, isFolder: isFolder, request.method,
                                              fields, isPrivate: isPrivate, scope: access.scope)
                }
                if isFolder || key.isEmpty {
                    return try await folder(root, rootName: rootName, key: key, request.method, fields, isPrivate: isPrivate,
                                            scope: access.scope)
                }
                guard let object = try await resolve(root, rootName: rootName, key: key, scope: access.scope) else { return notFound() }
                return try await ObjectResponse.make(object, key: key, method: request.method, fields: fields,
                                                     cacheControl: isPrivate ? gateway.privateCacheControl : gateway.cacheControl)
            } catch {
                return failure(error, reading: "\(rootName)/\(key)", request)
            }
        }
    }

    /// The catalogue's decision for a key, before anything about the object is revealed:
    /// a refusal (the same 404 as a missing key; 401 for an anonymous caller when auth is on
    /// and the root is `datasets: catalog`, where every key outside a public dataset is
    /// answered so, existing or not), or the scope that filters listings and consolidated
    /// documents.
    private func datasetScope(_ rootName: String, root: Gateway.ServedRoot, key: String, isFolder: Bool,
                              _ identity: AccessPolicy.Identity) -> (refusal: Response?, scope: DatasetScope?) {
        guard let index = gateway.datasetAccess?.index else { return (nil, nil) }
        let viewer = gateway.viewer(identity)
        let scope = DatasetScope(index: index, root: rootName, mode: root.datasets, viewer: viewer)
        // A folder (listing) is filtered rather than refused, unless it lies inside a dataset.
        let decision = index.decide(root: rootName, key: key, mode: root.datasets, viewer: viewer)
        switch decision {
        case .open, .restricted: return (nil, scope)
        case .missing where (isFolder || key.isEmpty) && scope.isAboveDatasets(key):
            return (nil, scope)
        case .missing, .hidden:
            return (refuse(identity, root), nil)
        }
    }

    private func refuse(_ identity: AccessPolicy.Identity, _ root: Gateway.ServedRoot) -> Response {
        if gateway.policy.isEnabled, identity == .anonymous, root.datasets == .catalog { return unauthorized() }
        return notFound()
    }

    /// The stored object, or a generated consolidated document standing in for it. Above
    /// datasets the caller may not all see, no consolidated document is given out: a stored
    /// `.zmetadata` is a 404 and a v3 `zarr.json` is served as stored.
    private func resolve(_ root: Gateway.ServedRoot, rootName: String, key: String, scope: DatasetScope?) async throws -> (any OpenedObject)? {
        if let scope, ConsolidatedMetadata.mayGenerate(key), scope.hidesBelow(ConsolidatedMetadata.split(key).folder) {
            if ConsolidatedMetadata.split(key).name == ZarrKeys.consolidated { return nil }
            return try await root.source.open(key)
        }
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
                          _ fields: RequestFields, isPrivate: Bool, scope: DatasetScope?) async throws -> Response {
        let cacheControl = isPrivate ? gateway.privateCacheControl : gateway.cacheControl
        if let scope, ConsolidatedMetadata.split(key).name == ZarrKeys.consolidated,
           scope.hidesBelow(ConsolidatedMetadata.split(key).folder) {
            return notFound()
        }
        var keep: (@Sendable (String, Bool) -> Bool)?
        if let scope {
            keep = { name, isFolder in scope.keepsListed(name, in: key, isFolder: isFolder) }
        }
        let object: MemoryObject?
        do {
            object = try await V2ViewRoute.object(view, rootName: rootName, key: key, isFolder: isFolder, gateway: gateway, keep: keep)
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
                        _ fields: RequestFields, isPrivate: Bool, scope: DatasetScope?) async throws -> Response {
        guard gateway.listing, var listing = try await root.source.listFolder(key) else { return notFound() }
        if let scope { listing = scope.filter(listing, folder: key) }
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
