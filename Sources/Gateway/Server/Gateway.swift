import Storage
import Foundation
import NIOCore
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
    /// One OpenFileCache per event loop, made on first use there.
    private let fileCaches = Mutex<[ObjectIdentifier: NIOLoopBound<OpenFileCache>]>([:])

    /// Opens every root (a missing folder or an unparsable S3 URL fails here, before the
    /// port is bound, naming the root).
    public init(configuration raw: GatewayConfiguration) async throws {
        let configuration = try raw.validated()
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
            roots[root.name] = ServedRoot(source: source, store: store, rule: rule, v2: v2)
        }
        self.roots = roots
        let policy = try await AccessPolicy(configuration: configuration.auth ?? AuthConfiguration())
        self.policy = policy
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

    /// The roots by name, with where each lives (for the startup banner).
    public var rootLocations: [(name: String, location: String)] {
        roots.map { ($0.key, $0.value.source.location) }.sorted { $0.name < $1.name }
    }
}
