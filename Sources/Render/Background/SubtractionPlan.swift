import ZarrCore

/// What `subtract=` will do (Docs/render.md, "Background subtraction"), decided from
/// metadata with the rest of the plan: the background's source, the level a smooth
/// estimate is computed at and the region read there, the kernel in that level's pixels,
/// and the caps, all checked before any pixel is read.
public struct SubtractionPlan: Sendable {
    public enum Source: Sendable {
        /// A fixed value.
        case constant(Double)
        /// numpy's linear percentile of each channel's pixels read (`stats=region`).
        case percentile(Double)
        /// Another NGFF image's pixels at the same level and region.
        case image(NamedBackground)
        /// A smooth estimate on a background level, upsampled to the render grid.
        case smooth(SmoothBackground)
    }

    public let source: Source
    public let negative: NegativePolicy
    /// What the answer states (`X-Tessera-Subtract`), before per-channel values.
    public let summary: String

    /// Limits on the smooth estimates: kernel sizes at the background level and the
    /// pixels read there (a rolling ball costs N·r², a median N·k²).
    public static let maxBallRadius = 32.0
    public static let maxMedianSize = 65
    public static let maxGaussianSigma = 64.0
    public static let maxSmoothPixels = 1024 * 1024
    public static let maxGaussianPixels = 4096 * 4096
    /// The background level is the coarsest where the kernel still spans this many pixels.
    public static let minKernelPixels = 8.0

    /// `z` is the plane's z at the render level, `z0` in level-0 units.
    init(spec: SubtractSpec, negative: NegativePolicy, image: RenderImage, background: RenderImage?, level: Int,
         t: Int, z: Int, z0: Int, channels: Int, read: (x: Int, y: Int, width: Int, height: Int), limits: RenderLimits) throws {
        self.negative = negative
        switch spec {
        case let .constant(v):
            source = .constant(v)
            summary = "constant \(DisplayWindow.text(v))"
        case let .percentile(p):
            source = .percentile(p)
            summary = "p\(DisplayWindow.text(p)) of the region read (stats=region)"
        case let .image(reference):
            guard let background else { throw RenderError.imageNotFound(reference) }
            source = .image(try NamedBackground(reference: reference, image: image, background: background, level: level, t: t, z: z))
            // The background's values may be wider than the image's.
            guard let bytes = checkedProduct([read.width, read.height, channels, background.dataType.size]), bytes <= limits.maxReadBytes else {
                throw RenderError.badParameter("subtract", "reading the background \(reference) (\(background.dataType.rawValue)) is over the cap of \(limits.maxReadBytes) bytes; ask for a smaller region= or a coarser level=")
            }
            summary = "image \(reference) level \(level)"
        case .rollingBall, .median, .gaussian:
            let smooth = try SmoothBackground(spec: spec, image: image, renderLevel: level, z0: z0, read: read, limits: limits)
            source = .smooth(smooth)
            summary = smooth.summary
        }
    }

    /// The output's data type, when it does not depend on the data (`keep` with a
    /// percentile does: int32 when the percentile is a whole number).
    static func outputType(image: DataType, negative: NegativePolicy, integralBackground: Bool) -> DataType {
        guard case .keep = negative else { return image }
        switch image {
        case .bool, .uint8, .int8, .uint16, .int16: return integralBackground ? .int32 : .float32
        case .float16, .float32: return .float32
        case .uint32, .int32, .uint64, .int64, .float64: return .float64
        }
    }
}

/// A background image checked against the image: every level's shape equal on y and x,
/// and on t, c, z equal, or 1, or absent (it is then broadcast).
public struct NamedBackground: Sendable {
    public let reference: String
    public let image: RenderImage
    /// The background's own t, z at the render level (0 where broadcast), and whether its
    /// channel follows the image's.
    public let t: Int, z: Int
    public let followsChannel: Bool

    init(reference: String, image: RenderImage, background: RenderImage, level: Int, t: Int, z: Int) throws {
        self.reference = reference
        self.image = background
        func mismatch(_ l: Int) -> RenderError {
            let bs = l < background.levels.count ? "has shape \(Self.text(background.levels[l].shape)) at level \(l)" : "has no level \(l)"
            return .badParameter("subtract", "background image \(reference) \(bs), the image has \(Self.text(image.levels[l].shape))")
        }
        let names: [(String, (RenderAxes) -> Int?)] = [("t", { $0.t }), ("c", { $0.c }), ("z", { $0.z }), ("y", { $0.y }), ("x", { $0.x })]
        // Axes the background has and the image lacks must be of size 1.
        let known = Set(names.compactMap { $0.1(background.axes) })
        for l in 0..<image.levels.count {
            guard l < background.levels.count else { throw mismatch(l) }
            let a = image.levels[l].shape, b = background.levels[l].shape
            for (name, axis) in names {
                let size = axis(image.axes).map { a[$0] } ?? 1
                let other = axis(background.axes).map { b[$0] } ?? 1
                let broadcast = name != "y" && name != "x" && other == 1
                guard other == size || broadcast else { throw mismatch(l) }
            }
            for d in 0..<b.count where !known.contains(d) && b[d] != 1 { throw mismatch(l) }
        }
        let bl = background.levels[level].shape
        self.t = background.axes.t.map { bl[$0] > 1 ? t : 0 } ?? 0
        self.z = background.axes.z.map { bl[$0] > 1 ? z : 0 } ?? 0
        followsChannel = background.axes.c.map { bl[$0] > 1 } ?? false
    }

    static func text(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

    /// The background's region for one of the image's channels.
    func region(channel: Int, readX: Int, readY: Int, width: Int, height: Int) -> Region {
        let axes = image.axes
        var origin = [Int](repeating: 0, count: axes.rank), shape = [Int](repeating: 1, count: axes.rank)
        if let a = axes.t { origin[a] = t }
        if let a = axes.c { origin[a] = followsChannel ? channel : 0 }
        if let a = axes.z { origin[a] = z }
        origin[axes.y] = readY
        shape[axes.y] = height
        origin[axes.x] = readX
        shape[axes.x] = width
        return Region(origin: origin, shape: shape)
    }
}

/// A rolling ball, median or gaussian computed on a background level B and upsampled.
public struct SmoothBackground: Sendable {
    public enum Kernel: Sendable, Equatable {
        case ball(radius: Double)
        case median(size: Int)
        case gaussian(sigma: Double)
    }

    public let kernel: Kernel
    public let level: Int
    /// B's z index for the plane.
    public let z: Int
    /// The region read at B (padded by the kernel's reach, clipped to the level) and B's
    /// whole size, which the edge rules need.
    public let readX: Int, readY: Int, readWidth: Int, readHeight: Int
    public let levelWidth: Int, levelHeight: Int
    /// The B pixels the upsampling needs, within the read region.
    public let needX: Int, needY: Int, needWidth: Int, needHeight: Int
    /// f_render / f_B on x and y (≤ 1).
    public let ratioX: Double, ratioY: Double
    /// The render level's region (absolute indices), which the upsampling maps.
    public let renderX: Int, renderY: Int, renderWidth: Int, renderHeight: Int
    public let summary: String

    /// `z0` is the plane's z in level-0 units.
    init(spec: SubtractSpec, image: RenderImage, renderLevel: Int, z0: Int, read: (x: Int, y: Int, width: Int, height: Int),
         limits: RenderLimits) throws {
        let parameter: Double
        switch spec {
        case let .rollingBall(r): parameter = r
        case let .median(k): parameter = Double(k)
        case let .gaussian(s): parameter = s
        default: throw RenderError.encoder("not a smooth background")
        }
        let axes = image.axes
        let fr = image.levels[renderLevel].factorX
        // The coarsest level no finer than the render's where the kernel still spans 8
        // pixels; the render level itself when even there it spans fewer.
        var b = renderLevel
        for l in image.levels.indices where image.levels[l].factorX >= fr && parameter / image.levels[l].factorX >= SubtractionPlan.minKernelPixels {
            if image.levels[l].factorX > image.levels[b].factorX { b = l }
        }
        level = b
        let lb = image.levels[b]
        let scaled = parameter / lb.factorX
        let reach: Int
        switch spec {
        case .rollingBall:
            guard scaled <= SubtractionPlan.maxBallRadius else {
                throw RenderError.badParameter("subtract", "radius too large: ball:\(DisplayWindow.text(parameter)) is \(DisplayWindow.text(scaled)) pixels at background level \(b), over the cap of \(Int(SubtractionPlan.maxBallRadius)) (the image has no coarser level)")
            }
            kernel = .ball(radius: scaled)
            reach = Int(scaled.rounded(.up))
            summary = "ball:\(DisplayWindow.text(parameter)) level \(b) (r=\(DisplayWindow.text(scaled)))"
        case .median:
            let k = max(3, Int(((scaled - 1) / 2).rounded(.toNearestOrAwayFromZero)) * 2 + 1)
            guard k <= SubtractionPlan.maxMedianSize else {
                throw RenderError.badParameter("subtract", "kernel too large: median:\(Int(parameter)) is \(k) pixels at background level \(b), over the cap of \(SubtractionPlan.maxMedianSize) (the image has no coarser level)")
            }
            kernel = .median(size: k)
            reach = k / 2
            summary = "median:\(Int(parameter)) level \(b) (k=\(k))"
        default:
            guard scaled <= SubtractionPlan.maxGaussianSigma else {
                throw RenderError.badParameter("subtract", "sigma too large: gaussian:\(DisplayWindow.text(parameter)) is \(DisplayWindow.text(scaled)) pixels at background level \(b), over the cap of \(Int(SubtractionPlan.maxGaussianSigma)) (the image has no coarser level)")
            }
            kernel = .gaussian(sigma: scaled)
            reach = Int(4 * scaled + 0.5)
            summary = "gaussian:\(DisplayWindow.text(parameter)) level \(b) (sigma=\(DisplayWindow.text(scaled)))"
        }
        let lr = image.levels[renderLevel]
        levelWidth = lb.shape[axes.x]
        levelHeight = lb.shape[axes.y]
        ratioX = lr.factorX / lb.factorX
        ratioY = lr.factorY / lb.factorY
        renderX = read.x; renderY = read.y; renderWidth = read.width; renderHeight = read.height
        let nx = Upsample.needed(start: read.x, count: read.width, ratio: ratioX, size: levelWidth)
        let ny = Upsample.needed(start: read.y, count: read.height, ratio: ratioY, size: levelHeight)
        needX = nx.start; needWidth = nx.count; needY = ny.start; needHeight = ny.count
        readX = max(0, needX - reach)
        readY = max(0, needY - reach)
        readWidth = min(levelWidth, needX + needWidth + reach) - readX
        readHeight = min(levelHeight, needY + needHeight + reach) - readY
        if let zAxis = axes.z {
            self.z = min(Int((Double(z0) / lb.factorZ).rounded(.down)), lb.shape[zAxis] - 1)
        } else {
            self.z = 0
        }
        let cap: Int
        if case .gaussian = kernel { cap = SubtractionPlan.maxGaussianPixels } else { cap = SubtractionPlan.maxSmoothPixels }
        guard let pixels = checkedProduct([readWidth, readHeight]), pixels <= cap else {
            throw RenderError.badParameter("subtract", "the background would read \(readWidth)×\(readHeight) pixels at level \(b), over the cap of \(cap); ask for a smaller region= or a coarser level=")
        }
        guard let bytes = checkedProduct([pixels, image.dataType.size]), bytes <= limits.maxReadBytes else {
            throw RenderError.badParameter("subtract", "the background's read at level \(b) is over the cap of \(limits.maxReadBytes) bytes")
        }
    }

    /// B's region of one channel at the plan's t.
    func region(axes: RenderAxes, t: Int, channel: Int) -> Region {
        var origin = [Int](repeating: 0, count: axes.rank), shape = [Int](repeating: 1, count: axes.rank)
        if let a = axes.t { origin[a] = t }
        if let a = axes.c { origin[a] = channel }
        if let a = axes.z { origin[a] = z }
        origin[axes.y] = readY
        shape[axes.y] = readHeight
        origin[axes.x] = readX
        shape[axes.x] = readWidth
        return Region(origin: origin, shape: shape)
    }
}
