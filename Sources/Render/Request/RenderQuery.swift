import Foundation
import Storage

/// The render grammar's values, one parser per parameter, each failing with
/// `RenderError.badParameter(name, message)`; and the query-string splitting the route
/// uses (`RenderRequest(parameters:)` takes the pairs).
public enum RenderQuery {
    /// Every parameter the grammar knows.
    public static let parameterNames: Set<String> = [
        "format", "level", "t", "z", "c", "region", "size", "window", "stats",
        "subtract", "negative", "colormap", "bits", "quality", "resample",
    ]

    /// Longer query strings are refused unparsed (a real one is under 200 bytes).
    public static let maxQueryBytes = 2048
    /// The largest coordinate or size any parameter takes: far beyond any image, small
    /// enough that sums and products of two never overflow.
    public static let maxCoordinate = 1 << 40
    /// The most channels one request may list.
    public static let maxChannels = 1024

    /// `a=1&b=2` → pairs, percent-decoded (`+` is a space, as forms send it).
    public static func pairs(fromQuery query: String) throws -> [(name: String, value: String)] {
        guard query.utf8.count <= maxQueryBytes else {
            throw RenderError.badParameter("query", "longer than \(maxQueryBytes) bytes")
        }
        var out = [(name: String, value: String)]()
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let rawName = halves[0], rawValue = halves.count > 1 ? halves[1] : ""
            guard let name = PercentDecoding.queryText(rawName) else {
                throw RenderError.badParameter(String(rawName.prefix(64)), "bad percent-encoding in the name")
            }
            guard let value = PercentDecoding.queryText(rawValue) else { throw RenderError.badParameter(name, "bad percent-encoding in the value") }
            out.append((name, value))
        }
        return out
    }

    /// Sets one parameter of `request` from its text.
    static func apply(_ name: String, _ value: String, to request: inout RenderRequest) throws {
        switch name {
        case "format":
            guard let f = RenderFormat(spelling: value) else {
                throw RenderError.badParameter(name, "'\(value)' is not one of png, jpeg, tiff, h5, npy")
            }
            request.format = f
        case "level": request.level = try index(name, value)
        case "t": request.t = try index(name, value)
        case "z": request.z = try index(name, value)
        case "c": request.channels = try channelList(value)
        case "region": request.region = try region(value)
        case "size": request.size = try size(value)
        case "window": request.window = try window(value)
        case "stats":
            guard let s = StatsScope(rawValue: value) else { throw RenderError.badParameter(name, "'\(value)' is not region or image") }
            request.stats = s
        case "subtract": request.subtract = try subtract(value)
        case "negative": request.negative = try negative(value)
        case "colormap":
            guard let m = Colormap(rawValue: value) else {
                throw RenderError.badParameter(name, "'\(value)' is not one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            request.colormap = m
        case "bits":
            guard value == "8" || value == "16" else { throw RenderError.badParameter(name, "'\(value)' is not 8 or 16") }
            request.bits = value == "8" ? 8 : 16
        case "quality":
            let q = try integer(name, value)
            guard (1...100).contains(q) else { throw RenderError.badParameter(name, "\(q) is not within 1–100") }
            request.quality = q
        case "resample":
            guard let r = Resample(rawValue: value) else { throw RenderError.badParameter(name, "'\(value)' is not area or nearest") }
            request.resample = r
        default:
            throw RenderError.badParameter(name, "unknown parameter")
        }
    }

    // MARK: values

    static func integer(_ name: String, _ text: some StringProtocol) throws -> Int {
        guard let v = Int(text), abs(v) <= maxCoordinate else {
            throw RenderError.badParameter(name, "'\(text)' is not an integer (within ±2^40)")
        }
        return v
    }

    /// An index or size that cannot be negative.
    static func index(_ name: String, _ text: some StringProtocol) throws -> Int {
        let v = try integer(name, text)
        guard v >= 0 else { throw RenderError.badParameter(name, "\(v) is negative") }
        return v
    }

    /// A finite number (`nan`, `inf` and hex floats are refused).
    static func number(_ name: String, _ text: some StringProtocol) throws -> Double {
        guard !text.lowercased().contains("x"), let v = Double(text), v.isFinite else {
            throw RenderError.badParameter(name, "'\(text)' is not a finite number")
        }
        return v
    }

    static func channelList(_ value: String) throws -> [Int] {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= maxChannels else { throw RenderError.badParameter("c", "more than \(maxChannels) channels") }
        var out = [Int]()
        for p in parts {
            let c = try index("c", p)
            guard !out.contains(c) else { throw RenderError.badParameter("c", "channel \(c) is listed twice") }
            out.append(c)
        }
        return out
    }

    static func region(_ value: String) throws -> PixelRect {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 4 else { throw RenderError.badParameter("region", "'\(value)' is not x,y,w,h") }
        let v = try parts.map { try index("region", $0) }
        guard v[2] > 0, v[3] > 0 else { throw RenderError.badParameter("region", "width and height must be at least 1 (got \(value))") }
        return PixelRect(x: v[0], y: v[1], width: v[2], height: v[3])
    }

    static func size(_ value: String) throws -> SizeSpec {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { throw RenderError.badParameter("size", "'\(value)' is not W or W,H") }
        let v = try parts.map { try index("size", $0) }
        guard v.allSatisfy({ $0 > 0 }) else { throw RenderError.badParameter("size", "sizes must be at least 1 (got \(value))") }
        return SizeSpec(width: v[0], height: v.count == 2 ? v[1] : v[0])
    }

    static func window(_ value: String) throws -> WindowSpec {
        if value == "omero" { return .omero }
        if value == "none" { return .none }
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw RenderError.badParameter("window", "'\(value)' is not min,max, pLOW,pHIGH, omero or none") }
        let percent = parts.map { $0.hasPrefix("p") }
        if percent[0] != percent[1] {
            throw RenderError.badParameter("window", "'\(value)' mixes a percentile and a value; write both as pN or neither")
        }
        if percent[0] {
            let lo = try percentile("window", parts[0].dropFirst()), hi = try percentile("window", parts[1].dropFirst())
            guard lo < hi else { throw RenderError.badParameter("window", "the low percentile must be below the high one (got \(value))") }
            return .percentiles(lo, hi)
        }
        let lo = try number("window", parts[0]), hi = try number("window", parts[1])
        guard lo < hi else { throw RenderError.badParameter("window", "min must be below max (got \(value))") }
        return .range(lo, hi)
    }

    static func percentile(_ name: String, _ text: some StringProtocol) throws -> Double {
        let p = try number(name, text)
        guard (0...100).contains(p) else { throw RenderError.badParameter(name, "percentile \(text) is not within 0–100") }
        return p
    }

    static func subtract(_ value: String) throws -> SubtractSpec {
        let name = "subtract"
        if value.hasPrefix("p") { return .percentile(try percentile(name, value.dropFirst())) }
        guard let colon = value.firstIndex(of: ":") else { return .constant(try number(name, value)) }
        let mode = value[..<colon], argument = value[value.index(after: colon)...]
        switch mode {
        case "image":
            let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw RenderError.badParameter(name, "'\(value)' is not image:ROOT/PATH")
            }
            return .image(String(argument))
        case "ball":
            let r = try number(name, argument)
            guard r > 0 else { throw RenderError.badParameter(name, "the ball's radius must be above 0 (got \(argument))") }
            return .rollingBall(radius: r)
        case "median":
            let k = try index(name, argument)
            guard k >= 1 else { throw RenderError.badParameter(name, "the median's size must be at least 1") }
            return .median(size: k)
        case "gaussian":
            let s = try number(name, argument)
            guard s > 0 else { throw RenderError.badParameter(name, "the gaussian's sigma must be above 0 (got \(argument))") }
            return .gaussian(sigma: s)
        default:
            throw RenderError.badParameter(name, "'\(mode)' is not a mode (a number, pN, image:, ball:, median:, gaussian:)")
        }
    }

    static func negative(_ value: String) throws -> NegativePolicy {
        switch value {
        case "clip": return .clip
        case "keep": return .keep
        default:
            guard value.hasPrefix("shift:") else { throw RenderError.badParameter("negative", "'\(value)' is not clip, keep or shift:N") }
            return .shift(try number("negative", value.dropFirst("shift:".count)))
        }
    }
}
