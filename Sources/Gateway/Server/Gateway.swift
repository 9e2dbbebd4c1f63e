import Catalog
import Storage
import Foundation
import NIOCore
import Render
import Synchronization
import ZarrCore

/// The gateway's state: the roots it serves and the settings every response follows.
/// Built once from a validated configuration; immutable while serving.
public final class Gateway: Sendable {
    struct ServedRoot: Sendable {
        let source: any ObjectSource
        /// The same root as a `Store`, for the hierarchy walks of consolidated metadata.
        let store: any Store
        let rule: AccessPolicy.Rule
        /// The Zarr v2 view of the root's v3 data (`--v2-view`), nil when off.
        let v2: V2ViewStore?
        /// Whether only catalogued, ready datasets' keys exist (`datasets: catalog`).
        let datasets: RootConfiguration.DatasetsMode
    }

    let roots: [String: ServedRoot]
    /// Local roots anyone may read: their plain object requests take the event-loop
    /// fast path (`Gateway.fastAnswer`, called by `ConnectionSequencer`).
    let fastRoots: [String: FileObjectSource]
    let policy: AccessPolicy
    let listing: Bool
    let consolidate: Bool
    /// Whether `/{root}/v2/…` answers the Zarr v2 view of the root (`V2ViewStore`).
    let v2View: Bool
    let cacheControl: String
    /// For answers from roots that need credentials.
    let privateCacheControl: String
    let corsOrigins: Set<String>
    let allowsAnyOrigin: Bool
    /// `anyOriginCORSFields()` when every origin is allowed.
    let anyOriginCORSFields: ByteBuffer?
    let metrics = GatewayMetrics()
    let accessLog: AccessLog?
    let generated: GeneratedDocuments
    let consolidationLimits: ConsolidatedMetadata.Limits
    let connectionLimits: ConnectionLimits
    let governor: ConnectionGovernor
    /// Names failed requests in answers and in the server's log (`ServerErrors`).
    let errors = ServerErrors()
    /// How long the fast path reuses an open file; zero: never.
    let fileCacheLifetime: Duration
    /// The catalogue behind `/api` and per-dataset access; nil without one.
    let catalog: (any CatalogStore)?
    /// The current per-dataset access, kept fresh by its own task (nil without a catalogue).
    let datasetAccess: DatasetAccessRefresher?
    let catalogConfiguration: CatalogConfiguration
    /// `PUT /api/uploads/{name}` (`UploadRoute`); nil unless `uploads:` is configured.
    let uploads: Uploads?
    /// `/api/datasets` parameters → a search (`SearchParameters`).
    let searchParser: SearchParameters
    /// The bounds on one render (`/render`, `/thumbnail`, `/quicklook`).
    let renderLimits: RenderLimits
    /// The threads renders run on, bounded, with a bounded queue (`RenderPool`).
    let renderPool: RenderPool
    /// Thumbnails and quicklooks kept on disk (`renderCacheDir`); nil: none kept.
    let renderCache: RenderCache?
    /// Identical renders in flight run once.
    let renderFlights = RenderFlights()
    /// `subtract=`'s computed backgrounds, in memory (`BackgroundCache`).
    let backgroundCache: BackgroundCache
    static let backgroundCacheBytes = 256 << 20
    /// Images' parsed metadata kept between picture requests (`OpenedImages`).
    let openedImages = OpenedImages(maximumEntries: 1024)
    /// The browse page's image lists (`--browse`); nil when off.
    let browseIndex: BrowseIndex?
    /// neuroglancer's client at `/viewer/`, Swagger UI at `/docs/`, the spec at `/openapi.yaml`.
    let viewerAssets: StaticAssets?
    let docsAssets: StaticAssets?
    let openapiDocument: StaticAssets?
    /// One OpenFileCache per event loop, made on first use there.
    private let fileCaches = Mutex<[ObjectIdentifier: NIOLoopBound<OpenFileCache>]>([:])

    /// Opens every root (a missing folder or an unparsable S3 URL fails here, before the
    /// port is bound, naming the root). With a catalogue (opened by the caller from
    /// `catalog.store`), its access snapshot is read once here: a gateway that cannot read
    /// it does not start, rather than serve datasets under their roots' rules alone.
    public init(configuration raw: GatewayConfiguration, catalog: (any CatalogStore)? = nil) async throws {
        var raw = raw
        if catalog != nil && raw.catalog == nil { raw.catalog = CatalogConfiguration() }
        let configuration = try raw.validated()
        if configuration.catalog != nil && catalog == nil {
            throw ConfigurationError("catalog: the section is given but no catalogue store was opened (catalog.store or --catalog)")
        }
        var roots = [String: ServedRoot]()
        var fileRoots = [String: FileObjectSource]()
        for root in configuration.roots ?? [] {
            let source: any ObjectSource, store: any Store
            do {
                if root.location.hasPrefix("s3://") {
                    let s3 = try S3ObjectSource(url: root.location)
                    (source, store) = (s3, s3.store)
                } else {
                    let files = try FileObjectSource(path: root.location)
                    fileRoots[root.name] = files
                    (source, store) = (files, files.store)
                }
            } catch {
                throw ConfigurationError("root '\(root.name)' (\(root.location)): \(error)")
            }
            let rule: AccessPolicy.Rule = switch root.access ?? .everyone {
            case .everyone: .everyone
            case let .groups(groups): .groups(Set(groups))
            }
            let v2 = configuration.v2View == true ? V2ViewStore(base: store) : nil
            roots[root.name] = ServedRoot(source: source, store: store, rule: rule, v2: v2, datasets: root.datasets ?? .open)
        }
        self.roots = roots
        self.catalog = catalog
        catalogConfiguration = configuration.catalog ?? CatalogConfiguration()
        searchParser = try SearchParameters(configuration: catalogConfiguration.search)
        if let catalog {
            let errors = self.errors
            let refresher = DatasetAccessRefresher(
                store: catalog, roots: (configuration.roots ?? []).map { ($0.name, $0.location) },
                interval: catalogConfiguration.refreshInterval, onError: { _ = errors.record($0) })
            do { try await refresher.refresh(force: true) } catch {
                throw ConfigurationError("catalog: cannot read the datasets' access: \(error)")
            }
            datasetAccess = refresher
        } else {
            datasetAccess = nil
        }
        let policy = try await AccessPolicy(configuration: configuration.auth ?? AuthConfiguration())
        self.policy = policy
        uploads = try await Self.openUploads(configuration.uploads, catalog: catalog, policy: policy)
        fastRoots = fileRoots.filter { name, _ in !policy.isEnabled || roots[name]?.rule == .everyone }
        listing = configuration.listing ?? false
        consolidate = configuration.consolidate ?? true
        v2View = configuration.v2View ?? false
        cacheControl = configuration.cacheControl ?? "public, max-age=60"
        privateCacheControl = configuration.privateCacheControl ?? "private, max-age=60"
        corsOrigins = Set(configuration.corsOrigins ?? ["*"])
        allowsAnyOrigin = corsOrigins.contains("*")
        anyOriginCORSFields = allowsAnyOrigin ? Self.anyOriginCORSFields() : nil
        accessLog = try AccessLog.open(configuration.accessLog ?? "stderr")
        fileCacheLifetime = .milliseconds(Int((configuration.fileCacheSeconds ?? 1) * 1000))
        consolidationLimits = ConsolidatedMetadata.Limits(
            documents: configuration.consolidateMaxDocuments ?? ConsolidatedMetadata.Limits.defaults.documents,
            bytes: configuration.consolidateMaxBytes ?? ConsolidatedMetadata.Limits.defaults.bytes,
            time: configuration.consolidateSeconds.map { .milliseconds(Int($0 * 1000)) } ?? ConsolidatedMetadata.Limits.defaults.time
        )
        let metrics = self.metrics
        generated = GeneratedDocuments(onGenerate: { metrics.generatedDocument() })
        connectionLimits = ConnectionLimits(configuration: configuration)
        governor = ConnectionGovernor(limits: connectionLimits)
        renderLimits = RenderLimits(maxOutputPixels: configuration.renderMaxOutputPixels ?? RenderLimits().maxOutputPixels,
                                    maxReadBytes: configuration.renderMaxReadBytes ?? RenderLimits().maxReadBytes)
        renderPool = RenderPool(concurrency: configuration.renderConcurrency ?? System.coreCount,
                                queue: configuration.renderQueue ?? 64)
        if let directory = configuration.renderCacheDir {
            do {
                renderCache = try RenderCache(directory: directory, maxBytes: configuration.renderCacheBytes ?? (1 << 30))
            } catch {
                throw ConfigurationError("renderCacheDir '\(directory)': \(error)")
            }
        } else {
            renderCache = nil
        }
        backgroundCache = BackgroundCache(maxBytes: Self.backgroundCacheBytes, observe: { metrics.backgroundCache(hit: $0) })
        browseIndex = configuration.browse == true ? BrowseIndex(limits: consolidationLimits) : nil
        viewerAssets = try configuration.viewerAssets.map { try StaticAssets(folder: $0, what: "viewerAssets") }
        if let viewer = viewerAssets, viewer.files["index.html"] == nil {
            throw ConfigurationError("viewerAssets \(viewer.folder): no index.html (give the neuroglancer wheel's static/client folder)")
        }
        docsAssets = try configuration.docsAssets.map {
            try StaticAssets(folder: $0, what: "docsAssets", extra: ["index.html": Array(SiteRoute.docsIndex.utf8),
                                                                     "init.js": Array(SiteRoute.docsInit.utf8)])
        }
        if let docs = docsAssets, docs.files["swagger-ui-bundle.js"] == nil {
            throw ConfigurationError("docsAssets \(docs.folder): no swagger-ui-bundle.js (give the swagger-ui-py wheel's swagger_ui/static folder)")
        }
        openapiDocument = try configuration.openapi.map { try StaticAssets(file: $0, as: "openapi.yaml", what: "openapi") }
    }

    /// The file cache of `loop`; call on that loop.
    func fileCache(on loop: any EventLoop) -> OpenFileCache {
        fileCaches.withLock { caches in
            if let cache = caches[ObjectIdentifier(loop)] { return cache.value }
            let cache = OpenFileCache(lifetime: fileCacheLifetime,
                                      capacity: fileCacheLifetime > .zero ? connectionLimits.cachedFilesPerLoop : 0)
            caches[ObjectIdentifier(loop)] = NIOLoopBound(cache, eventLoop: loop)
            return cache
        }
    }

    /// Whether answers from `root` depend on the caller's credentials: with auth on, every
    /// root but a public one (an unknown root answers like a private one).
    func needsCredentials(_ root: String?) -> Bool {
        guard policy.isEnabled else { return false }
        guard let root, let served = roots[root] else { return true }
        return served.rule != .everyone
    }

    /// Whether any answer from `root` may depend on the caller's credentials, so it says
    /// `Vary: Authorization`: a root that needs them, a `datasets: catalog` root, or one
    /// holding a dataset not everyone may see. Per root, not per key: a hidden dataset's 404
    /// must carry the same fields as a missing key's, on both answer paths.
    func variesWithCredentials(_ root: String) -> Bool {
        guard policy.isEnabled else { return false }
        if needsCredentials(root) { return true }
        guard let index = datasetAccess?.index, let served = roots[root] else { return false }
        return served.datasets == .catalog || index.hasRestricted(root)
    }

    /// Whether an answer about `key` is for this caller only (`privateCacheControl`): its
    /// root needs credentials, or the key lies in a dataset not everyone may see, or it is
    /// a listing or consolidated document of a folder above such datasets.
    func isPrivate(_ root: String, key: String) -> Bool {
        if needsCredentials(root) { return true }
        guard let index = datasetAccess?.index, index.hasRestricted(root) else { return false }
        let viewKey = V2ViewRoute.viewKey(key) ?? key
        if index.containing(viewKey, root: root).contains(where: { !$0.rule.isPublic || !$0.ready }) { return true }
        let folder = ConsolidatedMetadata.mayGenerate(viewKey) ? ConsolidatedMetadata.split(viewKey).folder : viewKey
        return index.hidesBelow(folder, root: root, viewer: .anonymous)
    }

    /// The catalogue's viewer for a verified caller.
    func viewer(_ identity: AccessPolicy.Identity) -> Viewer {
        switch identity {
        case .anonymous, .refused: .anonymous
        case let .member(user, groups): Viewer.caller(user: user, groups: groups, globalAccessGroup: catalogConfiguration.resolvedGlobalAccessGroup)
        }
    }

    /// The uploads' state, after sweeping what gateways on this host that stopped left behind.
    private static func openUploads(_ configuration: UploadConfiguration?, catalog: (any CatalogStore)?,
                                    policy: AccessPolicy) async throws -> Uploads? {
        guard let configuration else { return nil }
        guard policy.isEnabled else {
            throw ConfigurationError("uploads: need auth (tokens or jwt): uploads are for authenticated users only")
        }
        guard let ledger = catalog as? any UploadLedger else {
            throw ConfigurationError("uploads: the catalogue store cannot keep upload quotas")
        }
        let staging = try StagingArea(root: configuration.staging)
        for name in await staging.sweep(ledger) { uploadLog("upload: removed \(name), left by a gateway that stopped") }
        return Uploads(configuration: configuration, staging: staging, ledger: ledger)
    }

    /// One line on stderr (the server's log) about an upload.
    static func uploadLog(_ line: String) {
        FileHandle.standardError.write(Data(("tessera serve: " + line + "\n").utf8))
    }

    func uploadLog(_ line: String) { Self.uploadLog(line) }

    /// The roots by name, with where each lives (for the startup banner).
    public var rootLocations: [(name: String, location: String)] {
        roots.map { ($0.key, $0.value.source.location) }.sorted { $0.name < $1.name }
    }
}
