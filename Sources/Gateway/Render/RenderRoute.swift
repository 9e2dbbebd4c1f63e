import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import Render
import Storage
import ZarrCore

/// `GET|HEAD /render|thumbnail|quicklook/{root}/{image}?…` (Docs/serve.md, "Pictures";
/// Docs/render.md states the parameters). In order:
/// 1. the same access decision as the image's objects (the root's rule, then the
///    catalogue's for the image and every level it reads): hidden is the 404 of a
///    missing image, no credentials the 401;
/// 2. the query through Render's grammar (`RenderQuery`, the presets for thumbnail and
///    quicklook): a 400 `{"error", "parameter"}` naming the parameter;
/// 3. the image's metadata and the plan, off the event loop: every range and cap checked
///    before a pixel is read;
/// 4. the entity tag from the plan and the versions of the metadata documents, so a 304
///    costs no pixel;
/// 5. the disk cache (thumbnails and quicklooks), else the render on `RenderPool`
///    (busy: 503 with `Retry-After`), once for identical requests in flight (`RenderFlights`).
extension RenderKind {
    /// The preset a thumbnail or quicklook request starts from.
    var preset: RenderPreset? {
        switch self {
        case .render: return nil
        case .thumbnail: return .thumbnail
        case .quicklook: return .quicklook
        }
    }
}

struct RenderRoute {
    let gateway: Gateway

    /// Bumped whenever the bytes a request renders to may change (an encoder, a default):
    /// part of every tag and cache key, so old tags and cached pictures stop matching.
    static let renderVersion = Renderer.version

    func answer(_ kind: RenderKind, rootName: String, image: String, query: String?, method: HTTPRequest.Method,
                fields: RequestFields, identity: AccessPolicy.Identity) async -> Response {
        if gateway.policy.isEnabled {
            switch gateway.policy.decide(gateway.roots[rootName]?.rule, for: identity) {
            case .allow: break
            case .unauthorized: return unauthorized()
            case .hidden: return notFound()
            }
        }
        guard let root = gateway.roots[rootName] else { return notFound() }
        if let refusal = datasetRefusal(rootName, root: root, keys: [image], identity) { return refusal }

        let request: RenderRequest
        do {
            let pairs = try RenderQuery.pairs(fromQuery: query ?? "")
            switch kind {
            case .render: request = try RenderRequest(parameters: pairs)
            case .thumbnail: request = try RenderPreset.thumbnail.request(pairs)
            case .quicklook: request = try RenderPreset.quicklook.request(pairs)
            }
        } catch let error as RenderError {
            return refusal(error, method)
        } catch {
            return refusal(.badParameter("query", "\(error)"), method)
        }

        // `subtract=image:ROOT/PATH`: the background is read under the same rules as the
        // image; hidden, forbidden or missing, it answers exactly as a missing image.
        var background: (name: String, store: any Store, image: String)?
        if case let .image(reference) = request.subtract {
            guard !reference.contains("%"), case let .object(backgroundRoot, key, _) = RequestPath.parse(Substring("/" + reference)),
                  let served = gateway.roots[backgroundRoot] else { return notFound() }
            if gateway.policy.isEnabled, gateway.policy.decide(served.rule, for: identity) != .allow { return notFound() }
            if let refusal = datasetRefusal(backgroundRoot, root: served, keys: [key], identity) { return refusal }
            background = (backgroundRoot, served.store, key)
        }

        let store = root.store, limits = gateway.renderLimits, backgroundReference = background, images = gateway.openedImages
        let prepared: Prepared
        do {
            prepared = try await NIOThreadPool.singleton.runIfActive {
                try Self.prepare(store: store, image: image, request: request, limits: limits, background: backgroundReference,
                                 images: images, rootName: rootName)
            }
        } catch let error as RenderError {
            if case .imageNotFound = error { return notFound() }
            return refusal(error, method)
        } catch {
            return failure(error, rootName: rootName, image: image, method)
        }
        // The levels read are the image's objects too (a bioformats2raw root's series lies
        // below the path asked for).
        if let refusal = datasetRefusal(rootName, root: root, keys: prepared.levelKeys, identity) { return refusal }
        if let background, let served = gateway.roots[background.name],
           datasetRefusal(background.name, root: served, keys: prepared.backgroundKeys, identity) != nil { return notFound() }
        let isPrivate = ([image] + prepared.levelKeys).contains { gateway.isPrivate(rootName, key: $0) }
            || (background.map { b in ([b.image] + prepared.backgroundKeys).contains { gateway.isPrivate(b.name, key: $0) } } ?? false)
        let cacheControl = isPrivate ? gateway.privateCacheControl : gateway.cacheControl
        let validators = Validators(etag: Self.etag(prepared.material), lastModified: prepared.lastModified)

        // Preconditions first: a 304 (or 412) needs no pixel.
        switch Preconditions.evaluate(ifMatch: fields.ifMatch?[...], ifUnmodifiedSince: fields.ifUnmodifiedSince?[...],
                                      ifNoneMatch: fields.ifNoneMatch?[...], ifModifiedSince: fields.ifModifiedSince?[...],
                                      validators: validators) {
        case .notModified, .failed:
            let plan = ObjectResponse.plan(size: 0, validators: validators, key: "", method: method, headers: fields,
                                           cacheControl: cacheControl)
            var headers = plan.headers
            headers[.xTesseraLevel] = String(prepared.plan.level)
            return Response(status: plan.status, headers: headers)
        case .proceed: break
        }

        let cache = kind == .render ? nil : gateway.renderCache
        let picture: (bytes: [UInt8], contentType: String, cache: String)
        var subtractionHeaders: (summary: String?, dataType: String?) = (nil, nil)
        do {
            let plan = prepared.plan, material = prepared.material
            if let preset = kind.preset, query.map({ $0.isEmpty }) ?? true, let imagePath = prepared.imagePath,
               let stored = try await NIOThreadPool.singleton.runIfActive({
                   try StoredPictures.read(store: store, path: imagePath, preset: preset,
                                           versions: SourceVersions.of(plan.image, store: store, path: imagePath),
                                           rendererVersion: Renderer.version)
               }) {
                picture = (stored, plan.request.format.contentType, "stored")
            } else if let cache, let hit = try await NIOThreadPool.singleton.runIfActive({ cache.get(material) }) {
                gateway.metrics.renderCache("hit")
                picture = (hit.bytes, hit.contentType, "hit")
                // The cache keeps bytes only: the plan's account of the subtraction (a
                // percentile's values are known only to the render that made them).
                subtractionHeaders = (plan.subtraction?.summary, nil)
            } else {
                let metrics = gateway.metrics, pool = gateway.renderPool
                // The root too: two roots may hold equal documents over different pixels.
                let backgrounds = BackgroundReuse(cache: gateway.backgroundCache, source: "root \(rootName)\n" + prepared.backgroundSource)
                let (rendered, _) = try await gateway.renderFlights.run(material) {
                    try await pool.run {
                        let rendered = try Renderer.render(plan, concurrency: 1, backgrounds: backgrounds)
                        if let cache {
                            metrics.renderCache("miss")
                            if cache.put(material, contentType: rendered.contentType, bytes: rendered.bytes) { metrics.renderCache("stored") }
                        }
                        return RenderedPicture(bytes: rendered.bytes, contentType: rendered.contentType,
                                                     subtraction: rendered.subtraction, dataType: rendered.dataType.rawValue)
                    }
                }
                picture = (rendered.bytes, rendered.contentType, cache == nil ? "off" : "miss")
                subtractionHeaders = (rendered.subtraction, rendered.dataType)
            }
        } catch let error as RenderError {
            return refusal(error, method)
        } catch is RenderPoolBusy {
            var response = JSONAnswer.error(.serviceUnavailable, "every render thread is busy and the queue is full; retry shortly", method)
            response.headers[.retryAfter] = "1"
            return response
        } catch {
            return failure(error, rootName: rootName, image: image, method)
        }

        var plan = ObjectResponse.plan(size: picture.bytes.count, validators: validators, key: "", method: method,
                                       headers: fields, cacheControl: cacheControl)
        if plan.contentType != nil { plan.contentType = picture.contentType }
        var headers = plan.headers
        headers[.xTesseraLevel] = String(prepared.plan.level)
        headers[.xTesseraCache] = picture.cache
        headers[.contentDisposition] = "inline; filename=\"\(Self.fileName(image, request.format))\""
        if let summary = subtractionHeaders.summary { headers[.xTesseraSubtract] = summary }
        if request.subtract != nil, let dataType = subtractionHeaders.dataType { headers[.xTesseraDtype] = dataType }
        guard let span = plan.body else { return Response(status: plan.status, headers: headers) }
        let body = ByteBuffer(bytes: picture.bytes[span])
        return Response(status: plan.status, headers: headers, body: .init(byteBuffer: body))
    }

    /// What the metadata decides: the plan, the level arrays it may read, and the text
    /// every byte of the answer depends on (the tag's and the cache key's material).
    struct Prepared: Sendable {
        let plan: RenderPlan
        let levelKeys: [String]
        /// The background image's level keys (`subtract=image:`), in its root.
        let backgroundKeys: [String]
        let material: String
        /// The versions of the image's and the background's documents: the prefix of the
        /// keys of its computed backgrounds (`BackgroundCache`).
        let backgroundSource: String
        let lastModified: Int?
        /// The image group's path (stored pictures).
        var imagePath: String?
    }

    /// `images` keeps opened images between requests (`OpenedImages`); `rootName` names
    /// the root `store` serves, for its keys.
    static func prepare(store: any Store, image: String, request: RenderRequest, limits: RenderLimits,
                        background: (name: String, store: any Store, image: String)? = nil,
                        images: OpenedImages? = nil, rootName: String = "") throws -> Prepared {
        func open(_ rootName: String, _ store: any Store, _ path: String) throws -> OpenedImages.Opened {
            try images?.open(rootName: rootName, store: store, path: path)
                ?? OpenedImages.openFresh(rootName: rootName, store: store, path: path)
        }
        let main = try open(rootName, store, image)
        let opened = main.image
        // A missing background is the 404 of a missing image (imageNotFound).
        let backgroundOpened = try background.map { try open($0.name, $0.store, $0.image) }
        let backgroundImage = backgroundOpened?.image
        let plan = try RenderPlan(image: opened, request: request, limits: limits, background: backgroundImage)
        let levelKeys = main.levelKeys
        let backgroundKeys = backgroundOpened?.levelKeys ?? []
        // Every metadata document between the image's path and its levels, and the levels'
        // own (`SourceVersions`).
        let versions = main.versions
        var material = "tessera-render \(renderVersion)\nimage \(image)\nrequest \(request)\n" + versions.text
        var backgroundSource = "image \(image)\n" + versions.text
        // stats=image windows depend on the stored statistics too.
        if request.stats == .image, let statistics = opened.statistics {
            material += try SourceVersions.lines(store: store, documents: [statistics.key]).text
        }
        // The background's documents name its pixels too.
        var newest = versions.newest
        if let background, let b = backgroundOpened?.versions {
            let lines = b.text.split(separator: "\n").map { "background \(background.name)/\($0)\n" }.joined()
            material += lines
            backgroundSource += "background \(background.name)/\(background.image)\n" + lines
            newest = [newest, b.newest].compactMap { $0 }.max()
        }
        return Prepared(plan: plan, levelKeys: levelKeys, backgroundKeys: backgroundKeys, material: material,
                        backgroundSource: backgroundSource, lastModified: newest,
                        imagePath: opened.statistics?.imagePath)
    }

    /// A strong tag of the material, keyed with this run's random seed as file tags are
    /// (so tags reveal no inode numbers; they stay valid for one server run).
    static func etag(_ material: String) -> String {
        var first = Hasher(), second = Hasher()
        first.combine(material)
        second.combine(0x7265_6e64 as UInt32)
        second.combine(material)
        let a = UInt64(UInt(bitPattern: first.finalize())), b = UInt64(UInt(bitPattern: second.finalize()))
        return "\"r-\(String(a, radix: 16))\(String(b, radix: 16))\""
    }

    /// `{last segment of the image}.{ext}`, reduced to characters safe in a header.
    static func fileName(_ image: String, _ format: RenderFormat) -> String {
        let last = image.split(separator: "/").last.map(String.init) ?? "image"
        let safe = String(last.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }.map(Character.init))
        return (safe.isEmpty ? "image" : safe) + "." + format.fileExtension
    }

    /// The catalogue's refusal for any of `keys`, answered as for objects.
    private func datasetRefusal(_ rootName: String, root: Gateway.ServedRoot, keys: [String], _ identity: AccessPolicy.Identity) -> Response? {
        guard let index = gateway.datasetAccess?.index else { return nil }
        let viewer = gateway.viewer(identity)
        for key in keys {
            switch index.decide(root: rootName, key: key, mode: root.datasets, viewer: viewer) {
            case .open, .restricted: continue
            case .missing, .hidden:
                if gateway.policy.isEnabled, identity == .anonymous, root.datasets == .catalog { return unauthorized() }
                return notFound()
            }
        }
        return nil
    }

    private func refusal(_ error: RenderError, _ method: HTTPRequest.Method) -> Response {
        JSONAnswer.make(HTTPResponse.Status(code: error.status), error.json, method)
    }

    private func failure(_ error: any Error, rootName: String, image: String, _ method: HTTPRequest.Method) -> Response {
        let id = gateway.errors.record("cannot render \(rootName)/\(image): \(error)")
        var response = JSONAnswer.error(.badGateway, "storage error; request id \(id)", method)
        response.headers[.xRequestID] = id
        return response
    }

    private func notFound() -> Response { Response(status: .notFound, headers: [.contentLength: "0"]) }

    private func unauthorized() -> Response {
        Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"tessera\"", .contentLength: "0"])
    }
}

extension HTTPField.Name {
    /// The pyramid level a render read.
    static let xTesseraLevel = Self("X-Tessera-Level")!
    /// `hit`, `miss` or `off`: whether the disk cache answered.
    static let xTesseraCache = Self("X-Tessera-Cache")!
    /// What `subtract=` did: mode, background level and kernel, percentile values.
    static let xTesseraSubtract = Self("X-Tessera-Subtract")!
    /// The values' data type after `subtract=` (int32/float32 with `negative=keep`).
    static let xTesseraDtype = Self("X-Tessera-Dtype")!
}
