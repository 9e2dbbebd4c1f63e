/// The gateway's thumbnail and quicklook: renders with defaults of their own (issue 20,
/// Docs/serve.md "Pictures"). A caller may still give any render parameter; a preset only
/// fills the ones not given, and drops the picture-only ones when the caller asked for
/// a data format (so `format=npy` on a thumbnail is a data cut-out, not a 400).
public enum RenderPreset: String, Sendable, CaseIterable {
    /// 128×128 box, aspect kept, 1 % clipped at both ends, PNG.
    case thumbnail
    /// Longest side 1024, same window, JPEG at quality 85.
    case quicklook

    /// The preset's parameters, in the route's spelling.
    public var defaults: [(name: String, value: String)] {
        switch self {
        case .thumbnail: return [("size", "128,128"), ("window", "p1,p99"), ("format", "png")]
        case .quicklook: return [("size", "1024"), ("window", "p1,p99"), ("format", "jpeg"), ("quality", "85")]
        }
    }

    /// The caller's parameters with the preset's added where the caller gave none.
    public func request(_ given: [(name: String, value: String)]) throws -> RenderRequest {
        let names = Set(given.map(\.name))
        var format = RenderFormat.png
        if let spelled = given.last(where: { $0.name == "format" })?.value, let f = RenderFormat(spelling: spelled) {
            format = f
        } else if let preset = defaults.first(where: { $0.name == "format" }), let f = RenderFormat(spelling: preset.value) {
            format = f
        }
        var parameters = given
        for (name, value) in defaults where !names.contains(name) {
            if name == "window", !format.isPicture { continue }
            if name == "quality", format != .jpeg { continue }
            parameters.append((name, value))
        }
        return try RenderRequest(parameters: parameters)
    }
}
