import ZarrCore

/// The bounds on one render, checked in `RenderPlan` before any pixel is read or any
/// large buffer allocated.
public struct RenderLimits: Sendable, Equatable {
    /// Output pixels (width × height); 4096² by default.
    public var maxOutputPixels: Int = 4096 * 4096
    /// Bytes read from the level: region pixels × channels × bytes per value; 512 MiB.
    public var maxReadBytes: Int = 512 << 20

    public init(maxOutputPixels: Int = 4096 * 4096, maxReadBytes: Int = 512 << 20) {
        self.maxOutputPixels = maxOutputPixels
        self.maxReadBytes = maxReadBytes
    }
}

/// How channels become output samples.
public enum RenderMode: Sendable, Equatable {
    /// One channel, gray, 8 or 16 bits.
    case gray(bits: Int)
    /// One channel through a colour table.
    case colormap(Colormap)
    /// Several channels added in their omero colours.
    case composite
    /// Values as they are (npy, tiff, h5).
    case data
}

/// Where a channel's window comes from; percentiles need the pixels, the rest is known
/// from metadata.
public enum WindowSource: Sendable, Equatable {
    case fixed(DisplayWindow)
    case percentiles(low: Double, high: Double, inverted: Bool)
}

/// Every decision of a render, made from metadata alone: the level, the region read
/// there, t, z, channels, output size, windows, colours. Building it enforces the caps
/// and the ranges, so a bad request fails before the store is touched.
public struct RenderPlan: Sendable {
    public let image: RenderImage
    public let request: RenderRequest
    public let level: Int
    /// t and z as indices of the chosen level's array (z scaled down where z is).
    public let t: Int
    public let z: Int
    public let channels: [Int]
    /// The region of the chosen level read, in that level's pixels.
    public let readX: Int, readY: Int, readWidth: Int, readHeight: Int
    public let outputWidth: Int, outputHeight: Int
    public let mode: RenderMode
    /// Per selected channel (empty for data output).
    public let windows: [WindowSource]
    public let colors: [(red: Double, green: Double, blue: Double)]
    /// `subtract=`, decided (nil without it).
    public let subtraction: SubtractionPlan?

    /// `background` is the image `subtract=image:ROOT/PATH` names, opened by the caller
    /// (who checked the caller may read it); nil for other modes.
    public init(image: RenderImage, request: RenderRequest, limits: RenderLimits = RenderLimits(),
                background: RenderImage? = nil) throws {
        self.image = image
        self.request = request
        let axes = image.axes

        if let level = request.level, level >= image.levels.count {
            throw RenderError.badParameter("level", "level \(level) does not exist (the image has \(image.levels.count) level\(image.levels.count == 1 ? "" : "s"), 0–\(image.levels.count - 1))")
        }
        let t0 = try Self.index("t", request.t, default: image.omero?.defaultT, count: image.timeCount)
        let z0 = try Self.index("z", request.z, default: image.omero?.defaultZ, count: image.depth)

        let channelCount = image.channelCount
        let channels: [Int]
        if let wanted = request.channels {
            for c in wanted where c >= channelCount {
                throw RenderError.badParameter("c", "channel \(c) does not exist (the image has \(channelCount) channel\(channelCount == 1 ? "" : "s"), 0–\(channelCount - 1))")
            }
            channels = wanted
        } else {
            let active = (0..<channelCount).filter { c in image.omero.map { c < $0.channels.count && $0.channels[c].active } ?? false }
            channels = active.isEmpty ? Array(0..<channelCount) : active
        }
        self.channels = channels

        let region = request.region ?? PixelRect(x: 0, y: 0, width: image.width, height: image.height)
        guard region.x + region.width <= image.width, region.y + region.height <= image.height else {
            throw RenderError.badParameter("region", "region \(region) is outside the image (\(image.width)×\(image.height) at level 0)")
        }

        let level = request.level ?? request.size.map { LevelChoice.choose(levels: image.levels, axes: axes, region: region, box: $0) } ?? 0
        self.level = level
        let chosen = image.levels[level]
        let sx = LevelChoice.span(start: region.x, length: region.width, factor: chosen.factorX, size: chosen.shape[axes.x])
        let sy = LevelChoice.span(start: region.y, length: region.height, factor: chosen.factorY, size: chosen.shape[axes.y])
        readX = sx.start
        readWidth = sx.length
        readY = sy.start
        readHeight = sy.length
        t = t0
        if let zAxis = axes.z {
            z = min(Int((Double(z0) / chosen.factorZ).rounded(.down)), chosen.shape[zAxis] - 1)
        } else {
            z = 0
        }
        let out = LevelChoice.outputSize(width: readWidth, height: readHeight, box: request.size)
        outputWidth = out.width
        outputHeight = out.height

        // Caps, before anything is read or allocated.
        let capName = request.size != nil ? "size" : "region"
        guard let outputPixels = checkedProduct([out.width, out.height]), outputPixels <= limits.maxOutputPixels else {
            throw RenderError.badParameter(capName, "the output would be \(out.width)×\(out.height) pixels, over the cap of \(limits.maxOutputPixels); ask for a smaller size= or region=, or a coarser level=")
        }
        guard let readBytes = checkedProduct([readWidth, readHeight, channels.count, image.dataType.size]), readBytes <= limits.maxReadBytes else {
            throw RenderError.badParameter(capName, "reading \(readWidth)×\(readHeight) pixels × \(channels.count) channel(s) at level \(level) is over the cap of \(limits.maxReadBytes) bytes; ask for a smaller region= or a coarser level= (or size=, which picks one)")
        }
        if request.format == .jpeg && (out.width > 65535 || out.height > 65535) {
            throw RenderError.badParameter(capName, "JPEG is limited to 65535 pixels a side (the output would be \(out.width)×\(out.height))")
        }

        // How channels are drawn.
        if !request.format.isPicture {
            mode = .data
        } else if channels.count == 1 {
            if let map = request.colormap, map != .gray { mode = .colormap(map) } else { mode = .gray(bits: request.bits) }
        } else {
            if let map = request.colormap {
                throw RenderError.badParameter("colormap", "colormap=\(map.rawValue) draws one channel; \(channels.count) are selected (choose one with c=)")
            }
            if request.bits == 16 {
                throw RenderError.badParameter("bits", "16-bit PNG is one gray channel; \(channels.count) are selected (choose one with c=)")
            }
            mode = .composite
        }
        colors = channels.map { c in
            guard let omero = image.omero, c < omero.channels.count else { return (255, 255, 255) }
            return omero.channels[c].color
        }
        windows = mode == .data ? [] : try Self.windows(image: image, request: request, channels: channels)

        if let spec = request.subtract {
            // Stored statistics describe the stored pixels, not what is left after subtracting.
            if request.stats == .image, windows.contains(where: { if case .percentiles = $0 { true } else { false } }) {
                throw RenderError.badParameter("stats", "stats=image describes the stored pixels, not the subtracted ones; use stats=region with subtract=")
            }
            subtraction = try SubtractionPlan(spec: spec, negative: request.negative, image: image, background: background, level: level,
                                              t: t0, z: z, z0: z0, channels: channels.count, read: (readX, readY, readWidth, readHeight), limits: limits)
        } else {
            subtraction = nil
        }
        if request.format == .h5 && image.dataType == .float16 {
            throw RenderError.badParameter("format", "float16 values cannot be written as HDF5; use format=npy or tiff")
        }

    }

    /// t or z in level-0 units: the request's (checked), else omero's default (clamped),
    /// else 0.
    static func index(_ name: String, _ requested: Int?, default fallback: Int?, count: Int) throws -> Int {
        if let requested {
            guard requested < count else {
                throw RenderError.badParameter(name, "\(name)=\(requested) is outside the image (\(count) along \(name), 0–\(count - 1))")
            }
            return requested
        }
        return min(max(fallback ?? 0, 0), count - 1)
    }

    static func windows(image: RenderImage, request: RenderRequest, channels: [Int]) throws -> [WindowSource] {
        let omero = image.omero
        func omeroChannel(_ c: Int) -> DisplayChannel? { omero.flatMap { c < $0.channels.count ? $0.channels[c] : nil } }
        let hasOmeroWindows = channels.allSatisfy { omeroChannel($0)?.window != nil }
        let spec = request.window ?? (hasOmeroWindows ? .omero : .percentiles(0.1, 99.9))
        return try channels.map { c in
            let inverted = omeroChannel(c)?.inverted ?? false
            switch spec {
            case let .range(lo, hi): return .fixed(DisplayWindow(start: lo, end: hi, inverted: inverted))
            case let .percentiles(lo, hi): return .percentiles(low: lo, high: hi, inverted: inverted)
            case .omero:
                guard let w = omeroChannel(c)?.window else {
                    throw RenderError.badParameter("window", "the image has no omero window for channel \(c)")
                }
                return .fixed(DisplayWindow(start: w.start, end: w.end, inverted: inverted))
            case .none:
                guard let range = Self.typeRange(image.dataType) else {
                    throw RenderError.badParameter("window", "window=none needs an integer image (this one is \(image.dataType.rawValue)); give min,max or pLOW,pHIGH")
                }
                return .fixed(DisplayWindow(start: range.min, end: range.max, inverted: inverted))
            }
        }
    }

    /// The whole range of an integer type, for `window=none`.
    static func typeRange(_ t: DataType) -> (min: Double, max: Double)? {
        switch t {
        case .bool: return (0, 1)
        case .uint8: return (0, 255)
        case .int8: return (-128, 127)
        case .uint16: return (0, 65535)
        case .int16: return (-32768, 32767)
        case .uint32: return (0, Double(UInt32.max))
        case .int32: return (Double(Int32.min), Double(Int32.max))
        case .uint64: return (0, Double(UInt64.max))
        case .int64: return (Double(Int64.min), Double(Int64.max))
        case .float16, .float32, .float64: return nil
        }
    }
}
