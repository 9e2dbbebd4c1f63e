import HTTPTypes

/// The security headers of every page and static file the gateway serves itself (the
/// browse pages, their stylesheet, `/viewer/…`, `/docs/…`, `/openapi.yaml`): a
/// Content-Security-Policy allowing exactly what that site needs from this origin, no
/// framing by anyone (`frame-ancestors 'none'` and, for older browsers, `X-Frame-Options`),
/// a same-origin Referrer-Policy (a page's address, which carries a search or a viewer
/// state, never leaves the gateway), and `nosniff`. Zarr objects and pictures do not get
/// these: they keep their CORS headers and are read by viewers on other origins.
///
/// A site's policy is sent with each of its files, scripts included: a worker runs under
/// the policy delivered with its own script, not its page's.
enum PageSecurity: Sendable {
    /// The browse pages: no script, no inline style, images and the stylesheet from here,
    /// forms submit only here.
    case browse
    /// neuroglancer's page (checked in Chromium by Tests/Conformance/browse/test_browser.py):
    /// its scripts, its workers (from its own files), WebAssembly decoders
    /// (`wasm-unsafe-eval`), data from this gateway only, and `data:` images its stylesheet
    /// embeds. It sets element styles from script, which the CSP allows without
    /// `unsafe-inline`. No `eval` in the page, where the URL's state is parsed.
    case viewer
    /// neuroglancer's scripts and other files: as `viewer`, plus `'unsafe-eval'` for its
    /// chunk worker, whose decoders are generated with `Function(…)` (compressed
    /// segmentation). A worker has no DOM; a script the page loads ignores this header.
    case viewerWorker
    /// Swagger UI: its bundle and our `init.js` (no inline script), the spec from here, the
    /// `data:` SVG icons of its stylesheet. Its bundle applies inline styles (Chromium reports
    /// the violation without it), hence `'unsafe-inline'` for styles only; no inline script.
    case docs

    var policy: String {
        let common = "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        switch self {
        case .browse:
            return "default-src 'none'; img-src 'self'; style-src 'self'; " + common
        case .viewer, .viewerWorker:
            let eval = self == .viewerWorker ? " 'unsafe-eval'" : ""
            return "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'\(eval); worker-src 'self'; connect-src 'self'; "
                + "img-src 'self' data:; style-src 'self'; " + common
        case .docs:
            return "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
                + "style-src 'self' 'unsafe-inline'; " + common
        }
    }

    func add(to headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = policy
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "same-origin"
        headers[.xContentTypeOptions] = "nosniff"
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
