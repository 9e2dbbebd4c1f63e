import Testing
@testable import Gateway

@Suite struct RequestPathTests {
    @Test func routesRootsKeysAndOperations() {
        #expect(RequestPath.parse("/healthz") == .health)
        #expect(RequestPath.parse("/metrics") == .metrics)
        #expect(RequestPath.parse("/img/0/zarr.json") == .object(root: "img", key: "0/zarr.json", isFolder: false))
        #expect(RequestPath.parse("/img/0/") == .object(root: "img", key: "0", isFolder: true))
        #expect(RequestPath.parse("/img") == .object(root: "img", key: "", isFolder: false))
        #expect(RequestPath.parse("/img/a%20b/.zarray") == .object(root: "img", key: "a b/.zarray", isFolder: false))
        #expect(RequestPath.parse("/img/caf%C3%A9") == .object(root: "img", key: "café", isFolder: false))
    }

    @Test func apiIsAReservedRootWithItsOwnRoutes() {
        #expect(RequestPath.parse("/api/datasets") == .api("datasets"))
        #expect(RequestPath.parse("/api/datasets/abc/metadata") == .api("datasets/abc/metadata"))
        #expect(RequestPath.parse("/api/datasets/a%20b") == .api("datasets/a b"))
        #expect(RequestPath.parse("/api") == .api(""))
        #expect(RequestPath.parse("/api/%2e%2e/x") == .rejected)
        #expect(RequestPath.parse("/apis/x") == .object(root: "apis", key: "x", isFolder: false))
    }

    @Test func pictureRoutesAreReservedRootsNamingRootAndImage() {
        #expect(RequestPath.parse("/render/lab/a/b.ome.zarr") == .render(.render, root: "lab", image: "a/b.ome.zarr"))
        #expect(RequestPath.parse("/thumbnail/lab/img") == .render(.thumbnail, root: "lab", image: "img"))
        #expect(RequestPath.parse("/quicklook/lab") == .render(.quicklook, root: "lab", image: ""))
        #expect(RequestPath.parse("/render/lab/a%20b/") == .render(.render, root: "lab", image: "a b"))
        // Decoded and refused exactly as object keys are.
        for hostile in ["/render", "/render/", "/render/lab/../x", "/render/lab/%2e%2e/x", "/thumbnail/lab/a%2fb",
                        "/quicklook/%2e%2e", "/render/lab/.tessera-job.json"] {
            #expect(RequestPath.parse(hostile[...]) == .rejected, "\(hostile)")
        }
        #expect(RequestPath.parse("/renders/x") == .object(root: "renders", key: "x", isFolder: false))
        for name in ["render", "thumbnail", "quicklook", "api", "healthz", "metrics"] {
            #expect(RequestPath.reservedRootNames.contains(name))
        }
    }

    @Test func browseAndSiteRoutes() {
        #expect(RequestPath.parse("/") == .browseIndex)
        #expect(RequestPath.parse("/browse/lab/a/b.ome.zarr") == .browse(root: "lab", image: "a/b.ome.zarr"))
        #expect(RequestPath.parse("/browse/lab/x%3Cy%3E") == .browse(root: "lab", image: "x<y>"))
        #expect(RequestPath.parse("/browse/style.css") == .browse(root: "style.css", image: ""))
        #expect(RequestPath.parse("/viewer") == .site(.viewer, file: "", isFolder: false))
        #expect(RequestPath.parse("/viewer/v/tessera/") == .site(.viewer, file: "v/tessera", isFolder: true))
        #expect(RequestPath.parse("/viewer/v/tessera/main.js") == .site(.viewer, file: "v/tessera/main.js", isFolder: false))
        #expect(RequestPath.parse("/docs/") == .site(.docs, file: "", isFolder: true))
        #expect(RequestPath.parse("/openapi.yaml") == .site(.openapi, file: "", isFolder: false))
        for hostile in ["/browse", "/browse/", "/browse/lab/../x", "/browse/lab/%2e%2e/x", "/viewer/v/tessera/..%2findex.html",
                        "/viewer/v/tessera/%2e%2e/x", "/docs/a%2fb", "/docs/a%5cb", "/docs/%00"] {
            #expect(RequestPath.parse(hostile[...]) == .rejected, "\(hostile)")
        }
        for name in ["browse", "viewer", "docs", "openapi.yaml"] {
            #expect(RequestPath.reservedRootNames.contains(name))
        }
    }

    @Test func reservedRootNamesAreRefusedByTheConfiguration() {
        var configuration = GatewayConfiguration()
        configuration.roots = [RootConfiguration(name: "thumbnail", location: "/tmp")]
        do {
            _ = try configuration.validated()
            Issue.record("a root named thumbnail was accepted")
        } catch {
            #expect("\(error)" == "root name 'thumbnail' is reserved for the gateway's /thumbnail route")
        }
    }

    @Test func queryStringsDecodeOnceOrAreRefused() throws {
        let parsed = try QueryString.parse("q=m31+field&filter=V&filter=R&%27%20OR%201%3D1=x&empty&a=%C3%A5")
        #expect(parsed.map(\.name) == ["q", "filter", "filter", "' OR 1=1", "empty", "a"])
        #expect(parsed.map(\.value) == ["m31 field", "V", "R", "x", "", "å"])
        #expect(throws: APIParameterError(parameter: "q", message: "value is not valid percent-encoded UTF-8")) {
            try QueryString.parse("q=%ff")
        }
        #expect(throws: APIParameterError.self) { try QueryString.parse("%zz=1") }
        #expect(try QueryString.parse(nil).isEmpty)
    }

    @Test(arguments: [
        "/img/../etc/passwd", "/img/%2e%2e/x", "/img/%2E%2E/x", "/img/.%2e/x", "/img/a%2fb", "/img/a%2Fb",
        "/img/a%5cb", "/img/a\\b", "/img/a%00b", "/img/%c0%ae%c0%ae/x", "/img/%e0%80%ae", "/img//x",
        "/img/./x", "/img/%", "/img/%zz", "img/x", "//etc/passwd", "/img/a%0ab", "/img/%ff",
    ])
    func rejectsHostilePaths(_ path: String) {
        #expect(RequestPath.parse(path[...]) == .rejected)
    }

    /// The in-place parser for paths without escapes must agree with the general
    /// split-decode-join parser on every path, hostile ones included.
    @Test func inPlaceParserAgreesWithTheGeneralOne() {
        let alphabet: [Character] = ["a", "b", "/", "/", ".", "\\", "\u{01}", "\u{7f}", "é", "-"]
        var generator = SystemRandomNumberGenerator()
        var paths = ["", "/", "//", "a", "a/", "a//", "a/.", "a/..", "a/./b", ".", "..", "a/b/", "a/b//", "./a", "a\\b"]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...9, using: &generator)
            paths.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for path in paths {
            let inPlace = Array(path.utf8).withUnsafeBytes { RequestPath.parseUnescaped($0) }
            #expect(inPlace == RequestPath.parseSegments(path[...]), "path \(path.debugDescription)")
        }
    }

    @Test func doubleEncodingDecodesOnlyOnce() {
        // %252e%252e is the literal name "%2e%2e", never "..".
        #expect(RequestPath.parse("/img/%252e%252e/x") == .object(root: "img", key: "%2e%2e/x", isFolder: false))
    }
}
