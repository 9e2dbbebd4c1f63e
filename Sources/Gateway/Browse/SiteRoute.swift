import HTTPTypes
import Hummingbird
import NIOCore

/// The static sites served beside the data, read-only from memory (`StaticAssets`):
/// - `/viewer/v/tessera/…`: neuroglancer's built client. Its Python-integration build finds
///   its base in `/v/{token}/` of the page's path, so that is where it lives; `/viewer` and
///   `/viewer/` redirect there. Its calls to a Python server (`/viewer/events/…`) are 404s,
///   which it tolerates.
/// - `/docs/…`: Swagger UI's files with our `index.html` and `init.js` (no inline script),
///   showing `/openapi.yaml`.
/// A name is looked up in the loaded files only: nothing else on disk can be reached.
struct SiteRoute {
    let gateway: Gateway

    static let viewerBase = "/viewer/v/tessera/"

    func answer(_ site: SiteKind, file: String, isFolder: Bool, method: HTTPRequest.Method, fields: RequestFields) -> Response {
        var response = files(site, file: file, isFolder: isFolder, method: method, fields: fields)
        let isPage = response.headers[.contentType]?.hasPrefix("text/html") ?? false
        Self.security(site, page: isPage).add(to: &response.headers)
        return response
    }

    /// Each site's policy (`PageSecurity`); the spec document is a page of no site.
    static func security(_ site: SiteKind, page: Bool) -> PageSecurity {
        switch site {
        case .viewer: page ? .viewer : .viewerWorker
        case .docs: .docs
        case .openapi: .browse
        }
    }

    private func files(_ site: SiteKind, file: String, isFolder: Bool, method: HTTPRequest.Method, fields: RequestFields) -> Response {
        switch site {
        case .viewer:
            guard let assets = gateway.viewerAssets else { return notFound() }
            if file.isEmpty { return redirect(Self.viewerBase) }
            if file == "v/tessera" { return isFolder ? serve(assets, "index.html", method, fields) : redirect(Self.viewerBase) }
            guard file.hasPrefix("v/tessera/"), !isFolder else { return notFound() }
            return serve(assets, String(file.dropFirst("v/tessera/".count)), method, fields)
        case .docs:
            guard let assets = gateway.docsAssets else { return notFound() }
            if file.isEmpty { return isFolder ? serve(assets, "index.html", method, fields) : redirect("/docs/") }
            guard !isFolder else { return notFound() }
            return serve(assets, file, method, fields)
        case .openapi:
            guard let spec = gateway.openapiDocument, file.isEmpty, !isFolder else { return notFound() }
            return serve(spec, "openapi.yaml", method, fields)
        }
    }

    /// The browse page's stylesheet (`/browse/style.css`).
    func stylesheet(method: HTTPRequest.Method, fields: RequestFields) -> Response {
        var response = serve(Self.styleAsset, "style.css", method, fields)
        PageSecurity.browse.add(to: &response.headers)
        return response
    }

    static let styleAsset = StaticAssets(files: ["style.css": Array(BrowseTemplates.style.utf8)])

    private func serve(_ assets: StaticAssets, _ name: String, _ method: HTTPRequest.Method, _ fields: RequestFields) -> Response {
        // A name with a '/' is a subfolder's file, which is never loaded.
        guard let file = assets.files[name] else { return notFound() }
        let cacheControl = file.immutable ? "public, max-age=31536000, immutable" : "no-cache"
        var plan = ObjectResponse.plan(size: file.object.size, validators: file.object.validators, key: name, method: method,
                                       headers: fields, cacheControl: cacheControl)
        if plan.contentType != nil { plan.contentType = file.contentType }
        guard let span = plan.body else { return Response(status: plan.status, headers: plan.headers) }
        let body = file.object.bytes.getSlice(at: span.lowerBound, length: span.count) ?? ByteBuffer()
        return Response(status: plan.status, headers: plan.headers, body: .init(byteBuffer: body))
    }

    private func redirect(_ location: String) -> Response {
        Response(status: .found, headers: [.location: location, .contentLength: "0", .cacheControl: "no-cache"])
    }

    private func notFound() -> Response { Response(status: .notFound, headers: [.contentLength: "0"]) }

    /// Swagger UI's page: the bundle and our initialiser as files (the gateway's pages run
    /// no inline script).
    static let docsIndex = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>Tessera gateway API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
    </head>
    <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/init.js"></script>
    </body>
    </html>

    """

    static let docsInit = """
    window.onload = () => {
      window.ui = SwaggerUIBundle({
        url: "/openapi.yaml",
        dom_id: "#swagger-ui",
        deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout",
      });
    };

    """
}
