import Foundation
import NGFF
import ZarrCore

/// A finished render: the encoded bytes and what the answer tells about them.
public struct RenderedImage: Sendable {
    public var bytes: [UInt8]
    public var contentType: String
    public var level: Int
    public var width: Int
    public var height: Int
    /// The window each drawn channel used (empty for data formats), for
    /// `X-Tessera-Window` and the CLI's summary line.
    public var windows: [DisplayWindow]
    /// What `subtract=` did (`X-Tessera-Subtract`), nil without it.
    public var subtraction: String?
    /// The data type of the values drawn or written (`X-Tessera-Dtype`): the image's, or
    /// int32/float32/float64 after `subtract=…&negative=keep`.
    public var dataType: DataType
    /// For `stats=image` percentile windows: `exact`, `approximate`, or why the pixels
    /// read were used instead (`region: …`); nil otherwise.
    public var stats: String?
}

/// Runs a plan: read the region of each channel at the chosen level → window statistics
/// over what was read → resample → window and colour (or keep values) → encode.
public enum Renderer {
    /// Bumped whenever the bytes a request renders to may change (an encoder, a default):
    /// part of the gateway's tags and cache keys and of the stored pictures' record, so
    /// old ones stop matching.
    /// 2: PNG's zlib stream from FastDeflate (same pixels, other bytes: a strong tag or a
    /// cached or stored picture of version 1 no longer names these bytes).
    public static let version = 2

    /// `TESSERA_TRACE_READS=1`: each level read is named on stderr (tests count them). Read
    /// once, as `ResumeReads.tracing` is: the environment is a dictionary built per call.
    static let tracingReads = ProcessInfo.processInfo.environment["TESSERA_TRACE_READS"] == "1"

    /// `backgrounds`: where `subtract=` keeps computed backgrounds (the gateway's), nil to
    /// compute them for this render only.
    public static func render(_ plan: RenderPlan, concurrency: Int = defaultConcurrency,
                              backgrounds: BackgroundReuse? = nil) throws -> RenderedImage {
        let image = plan.image
        let level = image.levels[plan.level]
        let trace = Self.tracingReads

        var planes = [PlaneBuffer]()
        for c in plan.channels {
            let region = readRegion(plan, channel: c)
            if trace {
                FileHandle.standardError.write(Data("tessera-trace: render read level \(plan.level) origin \(region.origin) shape \(region.shape)\n".utf8))
            }
            let buffer = try level.reader.read(region, concurrency: concurrency)
            planes.append(PlaneBuffer(dataType: buffer.dataType, width: plan.readWidth, height: plan.readHeight, bytes: buffer.bytes))
        }

        // Background subtraction on the grid read, before windows and resampling.
        var subtraction: String?
        if let s = plan.subtraction {
            let result = try Subtraction.apply(s, plan: plan, planes: planes, concurrency: concurrency, reuse: backgrounds)
            planes = result.planes
            subtraction = result.summary
        }

        // Windows come from the pixels read (after subtraction), before resampling
        // (`stats=region`), or from the image's stored statistics (`stats=image`, which
        // RenderPlan refuses beside `subtract=`: they describe the stored pixels).
        let (stored, statsNote) = try storedStatistics(plan)
        let windows: [DisplayWindow] = zip(plan.windows, zip(plan.channels, planes)).map { source, channelPlane in
            let (channel, plane) = channelPlane
            switch source {
            case let .fixed(w): return w
            case let .percentiles(low, high, inverted):
                let v = stored.map { Percentile.linear($0, channel: channel, [low, high]) } ?? Percentile.linear(plane, [low, high])
                return DisplayWindow(start: v[0], end: v[1], inverted: inverted)
            }
        }
        let resampled = planes.map {
            Resample2D.resample($0, width: plan.outputWidth, height: plan.outputHeight, method: plan.request.resample)
        }

        let bytes: [UInt8]
        switch plan.mode {
        case .data:
            let shape = resampled.count == 1 ? [plan.outputHeight, plan.outputWidth] : [resampled.count, plan.outputHeight, plan.outputWidth]
            var data = [UInt8]()
            data.reserveCapacity(resampled.reduce(0) { $0 + $1.bytes.count })
            for p in resampled { data += p.bytes }
            bytes = try DataEncoder.encode(plan, dataType: resampled[0].dataType, shape: shape, data: data)
        case let .gray(bits):
            bytes = try encode(Display.gray(resampled[0], window: windows[0], bits: bits), plan)
        case let .colormap(map):
            guard let table = map.table else { throw RenderError.encoder("colour map \(map.rawValue) has no table") }
            bytes = try encode(Display.colormap(resampled[0], window: windows[0], table: table), plan)
        case .composite:
            bytes = try encode(Display.composite(resampled, windows: windows, colors: plan.colors), plan)
        }
        return RenderedImage(bytes: bytes, contentType: plan.request.format.contentType, level: plan.level,
                             width: plan.outputWidth, height: plan.outputHeight, windows: windows,
                             subtraction: subtraction, dataType: resampled[0].dataType, stats: statsNote)
    }

    /// For `stats=image` with a percentile window: the stored statistics and how exact
    /// they are. No file: `noStoredStatistics`; a damaged or stale one:
    /// `damagedStoredStatistics` (both 409), never a fallback to the pixels read, so a
    /// window that claims to cover the whole image always does.
    static func storedStatistics(_ plan: RenderPlan) throws -> (ImageStatistics?, String?) {
        guard plan.request.stats == .image, plan.windows.contains(where: { if case .percentiles = $0 { true } else { false } }) else {
            return (nil, nil)
        }
        guard let location = plan.image.statistics else { throw RenderError.noStoredStatistics(plan.image.name) }
        do {
            guard let stats = try location.load(for: plan.image) else { throw RenderError.noStoredStatistics(plan.image.name) }
            return (stats, stats.kind == .exact ? StatsAccuracy.exact.rawValue : StatsAccuracy.approximate.rawValue)
        } catch let error as ImageStatisticsError {
            // The reason only: the store's name for the file may be a server path.
            throw RenderError.damagedStoredStatistics(plan.image.name, error.reason)
        }
    }

    /// One channel's plane at the plan's t and z, in the level's array coordinates;
    /// axes other than t, c, z, y, x are read at index 0.
    static func readRegion(_ plan: RenderPlan, channel: Int) -> Region {
        let axes = plan.image.axes
        var origin = [Int](repeating: 0, count: axes.rank), shape = [Int](repeating: 1, count: axes.rank)
        if let t = axes.t { origin[t] = plan.t }
        if let c = axes.c { origin[c] = channel }
        if let z = axes.z { origin[z] = plan.z }
        origin[axes.y] = plan.readY
        shape[axes.y] = plan.readHeight
        origin[axes.x] = plan.readX
        shape[axes.x] = plan.readWidth
        return Region(origin: origin, shape: shape)
    }

    static func encode(_ picture: DisplayImage, _ plan: RenderPlan) throws -> [UInt8] {
        switch plan.request.format {
        case .png: return try PNGEncoder.encode(picture)
        case .jpeg: return try JPEGEncoder.encode(picture, quality: plan.request.quality)
        case .npy, .tiff, .h5: throw RenderError.notImplemented("format=\(plan.request.format.rawValue) for pictures")
        }
    }
}
