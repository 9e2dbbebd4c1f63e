/// What a render asks for, parsed and checked on its own (no image, no I/O): the
/// parameters of `GET /render/{root}/{image}?…` and of `tessera render`'s flags, one
/// grammar with two spellings (Docs/render.md states it). Checks that need the image
/// (channel counts, the region inside it, the caps) are `RenderPlan`'s.
public struct RenderRequest: Sendable, Equatable {
    public var format: RenderFormat = .png
    /// A level forced by the caller; nil picks the smallest level covering the output.
    public var level: Int?
    /// Indices in level-0 units; nil takes omero's `rdefs` default, else 0.
    public var t: Int?
    public var z: Int?
    /// Channels to draw; nil takes the active omero channels, else all.
    public var channels: [Int]?
    /// The part of the plane, in level-0 pixels; nil is the whole plane.
    public var region: PixelRect?
    /// The box the output fits in (aspect kept, never upsampled); nil is the region's
    /// size at the level used.
    public var size: SizeSpec?
    /// nil: the image's omero window when it has one, else `p0.1,p99.9`.
    public var window: WindowSpec?
    public var stats: StatsScope = .region
    public var subtract: SubtractSpec?
    public var negative: NegativePolicy = .clip
    /// nil: gray for one channel, omero colours for several.
    public var colormap: Colormap?
    /// PNG sample depth (8 or 16; 16 for one channel only).
    public var bits: Int = 8
    /// JPEG quality 1–100.
    public var quality: Int = 90
    public var resample: Resample = .area

    public init() {}

    /// Parses `name=value` pairs in the order given (a query string's, or flags'):
    /// each parameter at most once, no unknown names, every value checked.
    public init(parameters: [(name: String, value: String)]) throws {
        var seen = Set<String>()
        for (name, value) in parameters {
            guard RenderQuery.parameterNames.contains(name) else {
                throw RenderError.badParameter(name, "unknown parameter (known: \(RenderQuery.parameterNames.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(name).inserted else { throw RenderError.badParameter(name, "given more than once") }
            guard !value.isEmpty else { throw RenderError.badParameter(name, "has no value") }
            try RenderQuery.apply(name, value, to: &self)
        }
        try checkCombinations(given: seen)
    }

    /// Rules between parameters that hold whatever the image is.
    func checkCombinations(given: Set<String>) throws {
        if bits == 16 && format != .png {
            throw RenderError.badParameter("bits", "16-bit output is PNG only (format is \(format.rawValue))")
        }
        if given.contains("quality") && format != .jpeg {
            throw RenderError.badParameter("quality", "applies to format=jpeg only (format is \(format.rawValue))")
        }
        if !format.isPicture {
            for name in ["window", "colormap"] where given.contains(name) {
                throw RenderError.badParameter(name, "format \(format.rawValue) returns data values; \(name) applies to png and jpeg")
            }
        }
        if bits == 16 && colormap != nil && colormap != .gray {
            throw RenderError.badParameter("colormap", "a colour map gives 8-bit RGB; it cannot be combined with bits=16")
        }
        if given.contains("negative") && subtract == nil {
            throw RenderError.badParameter("negative", "applies only with subtract=")
        }
    }
}

public enum RenderFormat: String, Sendable, CaseIterable {
    case png, jpeg, tiff, h5, npy

    /// Windowed and composited for display (PNG, JPEG), as opposed to data values.
    public var isPicture: Bool { self == .png || self == .jpeg }

    public var contentType: String {
        switch self {
        case .png: return "image/png"
        case .jpeg: return "image/jpeg"
        case .tiff: return "image/tiff"
        case .h5: return "application/x-hdf5"
        case .npy: return "application/octet-stream"
        }
    }

    public var fileExtension: String {
        switch self {
        case .png: return "png"
        case .jpeg: return "jpg"
        case .tiff: return "tif"
        case .h5: return "h5"
        case .npy: return "npy"
        }
    }

    /// The format a spelling names: the route's values and the file extensions the CLI
    /// infers it from (`jpg`, `tif`, `hdf5`).
    public init?(spelling: String) {
        switch spelling.lowercased() {
        case "png": self = .png
        case "jpeg", "jpg": self = .jpeg
        case "tiff", "tif": self = .tiff
        case "h5", "hdf5": self = .h5
        case "npy": self = .npy
        default: return nil
        }
    }
}

/// `x,y,w,h` in level-0 pixels; `x + w` and `y + h` are known not to overflow.
public struct PixelRect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var description: String { "\(x),\(y),\(width),\(height)" }
}

/// The output box: `W` alone means the longest side is W (a W×W box).
public struct SizeSpec: Sendable, Equatable {
    public var width: Int, height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
}

public enum WindowSpec: Sendable, Equatable {
    /// Values `min…max` map to black…full.
    case range(Double, Double)
    /// numpy's default ("linear") percentiles of the values read, `0 ≤ low < high ≤ 100`.
    case percentiles(Double, Double)
    /// Each channel's omero `window.start/end`.
    case omero
    /// The data type's whole range (integer images only): raw values in a PNG of that depth.
    case none
}

public enum StatsScope: String, Sendable {
    /// Statistics of the pixels read (the chosen level's region of the plane).
    case region
    /// Statistics stored for the whole image at conversion (not implemented yet).
    case image
}

public enum SubtractSpec: Sendable, Equatable {
    case constant(Double)
    case percentile(Double)
    /// Another NGFF image, `root/path`.
    case image(String)
    case rollingBall(radius: Double)
    case median(size: Int)
    case gaussian(sigma: Double)
}

public enum NegativePolicy: Sendable, Equatable {
    case clip, keep
    case shift(Double)
}

public enum Colormap: String, Sendable, CaseIterable {
    case gray, viridis, magma, inferno, plasma, cividis
}

public enum Resample: String, Sendable, CaseIterable {
    /// Exact area averaging (integers rounded half up).
    case area
    /// The source pixel under each output pixel's centre.
    case nearest
}
