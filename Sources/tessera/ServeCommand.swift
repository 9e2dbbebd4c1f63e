import ArgumentParser
import Catalog
import CatalogStores
import Foundation
import Gateway

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve Zarr hierarchies read-only over HTTP to any Zarr reader or browser viewer.",
        discussion: """
        Each root is served at /NAME/ with its keys as paths. Ranges, HEAD, ETag, CORS and \
        consolidated metadata are handled for readers such as zarr-python, tensorstore, napari, \
        neuroglancer and vizarr. Auth and per-root access rules come from --config (Docs/serve.md).
        """
    )

    @Option(name: .customLong("root"), help: "NAME=PATH_OR_S3_URL, repeatable.") var roots: [String] = []
    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default 8080; 0 picks a free one).") var port: Int?
    @Option(help: "A YAML configuration file (roots, auth, CORS, …); flags override it.") var config: String?
    @Flag(help: "Answer paths ending in '/' with a JSON listing of the folder.") var listing = false
    @Option(name: .customLong("cors-origin"), help: "An allowed CORS origin, repeatable (default *).") var corsOrigins: [String] = []
    @Option(help: "Cache-Control sent with objects (default 'public, max-age=60').") var cacheControl: String?
    @Option(help: "Access log: stderr (default), stdout, off, or a file.") var accessLog: String?
    @Flag(help: "Do not generate consolidated metadata for hierarchies that lack it.") var noConsolidate = false
    @Flag(help: "Also serve each root's Zarr v3 (NGFF 0.5) data as Zarr v2 (NGFF 0.4) under /NAME/v2/, chunks sent from the shards as stored.")
    var v2View = false
    @Option(help: "Seconds an open file (or a miss) is reused before it is opened again: the longest a replaced or new file goes unseen (default 1; 0 opens on every request).")
    var fileCacheSeconds: Double?
    @Option(help: "Seconds a client has to send a whole request head (default 60).") var headerTimeout: Double?
    @Option(help: "Seconds an idle connection is kept between requests (default 75).") var idleTimeout: Double?
    @Option(help: "Seconds an answer may wait on a client that reads nothing (default 60).") var sendTimeout: Double?
    @Option(help: "Open connections beyond which idle ones are closed to make room (default: from the descriptor limit).")
    var maxConnections: Int?
    @Option(help: "The facility catalogue (sqlite:PATH or postgres://USER@HOST[:PORT]/DB): /api routes and per-dataset access (Docs/catalog.md).")
    var catalog: String?
    @Option(help: "A folder where thumbnails and quicklooks are kept between requests and restarts (bounded: renderCacheBytes, default 1 GiB).")
    var renderCache: String?
    @Flag(help: "Serve the browse page: GET / lists the images as thumbnails, /browse/ROOT/IMAGE shows one (Docs/serve.md).")
    var browse = false
    @Option(help: "neuroglancer's built client folder (the neuroglancer wheel's static/client), served at /viewer/.")
    var viewerAssets: String?
    @Option(help: "Swagger UI's static folder (the swagger-ui-py wheel's swagger_ui/static), served at /docs/ (needs --openapi).")
    var docsAssets: String?
    @Option(help: "The OpenAPI document served at /openapi.yaml (Specs/openapi.yaml).")
    var openapi: String?

    func run() async throws {
        do {
            var configuration = try config.map(GatewayConfiguration.load(yamlFile:)) ?? GatewayConfiguration()
            if !roots.isEmpty { configuration.roots = (configuration.roots ?? []) + (try roots.map(RootConfiguration.init(argument:))) }
            if let host { configuration.host = host }
            if let port { configuration.port = port }
            if listing { configuration.listing = true }
            if !corsOrigins.isEmpty { configuration.corsOrigins = corsOrigins }
            if let cacheControl { configuration.cacheControl = cacheControl }
            if let accessLog { configuration.accessLog = accessLog }
            if noConsolidate { configuration.consolidate = false }
            if v2View { configuration.v2View = true }
            if let fileCacheSeconds { configuration.fileCacheSeconds = fileCacheSeconds }
            if let headerTimeout { configuration.headerTimeoutSeconds = headerTimeout }
            if let idleTimeout { configuration.idleTimeoutSeconds = idleTimeout }
            if let sendTimeout { configuration.sendTimeoutSeconds = sendTimeout }
            if let maxConnections { configuration.maxConnections = maxConnections }
            if let renderCache { configuration.renderCacheDir = renderCache }
            if browse { configuration.browse = true }
            if let viewerAssets { configuration.viewerAssets = viewerAssets }
            if let docsAssets { configuration.docsAssets = docsAssets }
            if let openapi { configuration.openapi = openapi }
            if let catalog {
                var section = configuration.catalog ?? CatalogConfiguration()
                section.store = catalog
                configuration.catalog = section
            }
            var store: (any CatalogStore)?
            if let location = configuration.catalog?.store {
                store = try await CatalogLocation(parsing: location).open()
            } else if configuration.catalog != nil {
                throw ConfigurationError("catalog: name the store (catalog.store in the config, or --catalog sqlite:PATH)")
            }
            let gateway: Gateway
            do {
                gateway = try await Gateway(configuration: configuration, catalog: store)
            } catch {
                try? await store?.close()
                throw error
            }
            let host = configuration.host ?? "127.0.0.1"
            try await GatewayServer.run(gateway, host: host, port: configuration.port ?? 8080) { bound in
                let base = "http://\(host.contains(":") ? "[\(host)]" : host):\(bound)"
                var banner = "tessera serve: listening on \(base)/\n"
                for root in gateway.rootLocations { banner += "  \(base)/\(root.name)/  <- \(root.location)\n" }
                FileHandle.standardOutput.write(Data(banner.utf8))
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
