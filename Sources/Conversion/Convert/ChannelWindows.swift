import ImageSources
import NGFF
import Synchronization
import ZarrCore

/// A channel's value range and its 0.1/99.9 percentile rendering window (omero `window`).
struct ChannelWindow: Sendable, Equatable {
    var min: Double
    var max: Double
    var start: Double
    var end: Double
}

extension ChannelWindow {
    /// A range the source dictates, shown whole.
    init(range: ClosedRange<Double>) {
        self.init(min: range.lowerBound, max: range.upperBound, start: range.lowerBound, end: range.upperBound)
    }
}

/// The percentile position numpy's `method="inverted_cdf"` picks among `n` sorted values,
/// computed the way numpy computes it (in doubles), so windows match a numpy reference.
func invertedCDFPosition(count n: Int, percentile: Double) -> Int {
    let index = Double(n) * (percentile / 100) - 1
    let below = index.rounded(.down)
    let position = index - below > 0 ? below + 1 : below
    return Swift.max(0, Swift.min(n - 1, Int(position)))
}

let windowPercentiles = (low: 0.1, high: 99.9)

/// Exact per-channel histograms of 8- and 16-bit level-0 pixels, filled block by block
/// while converting; everything else gets its windows from the smallest level afterwards.
/// Made with `statisticsOf:`, other types (float32/64, 32/64-bit integers) get the stored
/// statistics' keyed histogram instead, with exact extremes and NaN counts
/// (`ImageStatistics`); those are never used for windows (`isExact` is false).
final class ChannelHistograms: Sendable {
    private let bins: Int
    private let signed: Bool
    private let channelAxis: Int?
    private let counts: Mutex<[[Int]]>
    /// The type of a keyed histogram; nil for an exact one.
    private let keyedType: DataType?
    private let extremes: Mutex<[ChannelExtremes]>

    /// Nil when the type is not a small integer type.
    init?(dataType: DataType, channels: Int, channelAxis: Int?) {
        switch dataType {
        case .uint8, .bool: (bins, signed) = (256, false)
        case .int8: (bins, signed) = (256, true)
        case .uint16: (bins, signed) = (65536, false)
        case .int16: (bins, signed) = (65536, true)
        default: return nil
        }
        self.channelAxis = channelAxis
        counts = Mutex(Array(repeating: Array(repeating: 0, count: bins), count: channels))
        keyedType = nil
        extremes = Mutex(Array(repeating: ChannelExtremes(), count: channels))
    }

    /// The counts for the image's stored statistics: exact for 8/16-bit types, keyed for
    /// the others; nil for float16 (no statistics are stored for it).
    init?(statisticsOf dataType: DataType, channels: Int, channelAxis: Int?) {
        guard let layout = ImageStatistics.layout(dataType) else { return nil }
        bins = layout.bins
        signed = layout.offset != 0
        keyedType = layout.kind == .keyed ? dataType : nil
        self.channelAxis = channelAxis
        counts = Mutex(Array(repeating: Array(repeating: 0, count: bins), count: channels))
        extremes = Mutex(Array(repeating: ChannelExtremes(), count: channels))
    }

    /// Whether the counts are exact values (windows and exact percentiles come from them).
    var isExact: Bool { keyedType == nil }

    /// Counts `block`, which sits at `region` of level 0.
    func add(_ block: NDBuffer, at region: Region) {
        if let keyedType { return addKeyed(block, at: region, type: keyedType) }
        let (outer, channels, inner) = channelLayout(block)
        let firstChannel = channelAxis.map { region.origin[$0] } ?? 0
        // Several tables per channel, summed at the end, let consecutive equal values
        // (common in images) not wait on each other's increment: four for 8-bit values,
        // two for 16-bit (32-bit counts keep those at 512 KiB, cache-resident).
        let tables = bins == 256 ? 4 : 2
        var local = Array(repeating: [UInt32](repeating: 0, count: tables * bins), count: channels)
        block.bytes.withUnsafeBytes { raw in
            for o in 0..<outer {
                for k in 0..<channels {
                    let start = (o * channels + k) * inner
                    local[k].withUnsafeMutableBufferPointer { h in
                        if bins == 256 {
                            Self.count8(raw.baseAddress! + start, inner, signed: signed, into: h.baseAddress!)
                        } else {
                            Self.count16(raw.baseAddress!.assumingMemoryBound(to: UInt16.self) + start, inner, signed: signed, into: h.baseAddress!)
                        }
                    }
                }
            }
        }
        counts.withLock { all in
            for k in 0..<channels {
                all[firstChannel + k].withUnsafeMutableBufferPointer { dst in
                    local[k].withUnsafeBufferPointer { h in
                        for t in 0..<tables {
                            for i in 0..<bins { dst[i] += Int(h[t * bins + i]) }
                        }
                    }
                }
            }
        }
    }

    /// Counts `n` 8-bit values into four 256-bin tables at `h`, four values per 32-bit
    /// load (signed values are offset by 128: bin 0 is -128).
    private static func count8(_ p: UnsafeRawPointer, _ n: Int, signed: Bool, into h: UnsafeMutablePointer<UInt32>) {
        let flip: UInt32 = signed ? 0x8080_8080 : 0
        let (h0, h1, h2, h3) = (h, h + 256, h + 512, h + 768)
        var i = 0
        while i + 4 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt32.self) ^ flip
            h0[Int(w & 0xFF)] &+= 1
            h1[Int((w >> 8) & 0xFF)] &+= 1
            h2[Int((w >> 16) & 0xFF)] &+= 1
            h3[Int(w >> 24)] &+= 1
            i += 4
        }
        while i < n {
            h0[Int(p.load(fromByteOffset: i, as: UInt8.self) ^ UInt8(truncatingIfNeeded: flip))] &+= 1
            i += 1
        }
    }

    /// Counts `n` 16-bit values into two 65536-bin tables at `h` (signed values offset by 32768).
    private static func count16(_ p: UnsafePointer<UInt16>, _ n: Int, signed: Bool, into h: UnsafeMutablePointer<UInt32>) {
        let flip: UInt16 = signed ? 0x8000 : 0
        let (h0, h1) = (h, h + 65536)
        var i = 0
        while i + 2 <= n {
            h0[Int(p[i] ^ flip)] &+= 1
            h1[Int(p[i + 1] ^ flip)] &+= 1
            i += 2
        }
        if i < n { h0[Int(p[i] ^ flip)] &+= 1 }
    }

    /// Bins per channel.
    var binCount: Int { bins }

    /// The counts so far, per channel (kept in a split image's region markers).
    var snapshot: [[Int]] { counts.withLock { $0 } }

    /// Adds the counts of another part of the image (the regions of a split image, a
    /// block's stored counts on resume), with its extremes for a keyed histogram.
    func merge(_ other: [[Int]], extremes more: [ChannelExtremes]? = nil) {
        counts.withLock { all in
            for (k, h) in other.enumerated() where k < all.count && h.count == bins {
                for i in 0..<bins { all[k][i] += h[i] }
            }
        }
        if let more { mergeExtremes(more) }
    }

    /// The extremes and NaN counts so far, per channel (kept only for keyed histograms;
    /// an exact histogram's come from its bins).
    var extremesSnapshot: [ChannelExtremes]? { keyedType == nil ? nil : extremes.withLock { $0 } }

    func mergeExtremes(_ more: [ChannelExtremes]) {
        extremes.withLock { all in
            for (k, e) in more.enumerated() where k < all.count { all[k].merge(e) }
        }
    }

    /// A block as `outer` runs of `channels` planes of `inner` values (C order).
    private func channelLayout(_ block: NDBuffer) -> (outer: Int, channels: Int, inner: Int) {
        let shape = block.shape
        guard let c = channelAxis else { return (1, 1, block.elementCount) }
        return (shape[..<c].reduce(1, *), shape[c], shape[(c + 1)...].reduce(1, *))
    }

    /// Counts a keyed block: one pass per channel, each value's key, NaNs apart.
    private func addKeyed(_ block: NDBuffer, at region: Region, type: DataType) {
        let (outer, channels, inner) = channelLayout(block)
        let firstChannel = channelAxis.map { region.origin[$0] } ?? 0
        var local = Array(repeating: [UInt32](repeating: 0, count: bins), count: channels)
        var found = Array(repeating: ChannelExtremes(), count: channels)
        block.bytes.withUnsafeBytes { raw in
            for o in 0..<outer {
                for k in 0..<channels {
                    let start = (o * channels + k) * inner
                    local[k].withUnsafeMutableBufferPointer { h in
                        switch type {
                        case .float32: Self.countKeys(raw, start, inner, Float.self, { Double($0) }, into: h, &found[k])
                        case .float64: Self.countKeys(raw, start, inner, Double.self, { $0 }, into: h, &found[k])
                        case .int32: Self.countKeys(raw, start, inner, Int32.self, { Double($0) }, into: h, &found[k])
                        case .uint32: Self.countKeys(raw, start, inner, UInt32.self, { Double($0) }, into: h, &found[k])
                        case .int64: Self.countKeys(raw, start, inner, Int64.self, { Double($0) }, into: h, &found[k])
                        case .uint64: Self.countKeys(raw, start, inner, UInt64.self, { Double($0) }, into: h, &found[k])
                        default: break
                        }
                    }
                }
            }
        }
        counts.withLock { all in
            for k in 0..<channels {
                all[firstChannel + k].withUnsafeMutableBufferPointer { dst in
                    local[k].withUnsafeBufferPointer { h in
                        for i in 0..<bins where h[i] != 0 { dst[i] += Int(h[i]) }
                    }
                }
            }
        }
        extremes.withLock { all in
            for k in 0..<channels { all[firstChannel + k].merge(found[k]) }
        }
    }

    /// Counts `n` values of type `T` starting at element `start`: float32 key per value
    /// (float64 and integers through Double, then rounded to float32), exact extremes.
    @inline(__always)
    private static func countKeys<T>(_ raw: UnsafeRawBufferPointer, _ start: Int, _ n: Int, _: T.Type, _ double: (T) -> Double,
                                     into h: UnsafeMutableBufferPointer<UInt32>, _ e: inout ChannelExtremes) {
        let p = raw.baseAddress!.assumingMemoryBound(to: T.self) + start
        var lo = Double.infinity, hi = -Double.infinity, nans = 0
        for i in 0..<n {
            let v = double(p[i])
            if v.isNaN { nans += 1; continue }
            if v < lo { lo = v }
            if v > hi { hi = v }
            h[ImageStatistics.key(Float(v))] &+= 1
        }
        e.merge(ChannelExtremes(nanCount: nans, min: lo, max: hi))
    }

    /// The image's stored statistics from these counts, for a level 0 of `shape`.
    func statistics(dataType: DataType, shape: [Int]) -> ImageStatistics? {
        guard let layout = ImageStatistics.layout(dataType), layout.bins == bins, (keyedType == nil) == (layout.kind == .exact) else { return nil }
        let all = counts.withLock { $0 }
        let found = extremes.withLock { $0 }
        let channels = all.enumerated().map { k, h -> ImageStatistics.Channel in
            let n = h.reduce(0, +)
            if keyedType != nil {
                let e = found[k]
                return ImageStatistics.Channel(count: n, nanCount: e.nanCount, min: n > 0 ? e.min : 0, max: n > 0 ? e.max : 0, bins: h)
            }
            let lo = h.firstIndex { $0 > 0 }, hi = h.lastIndex { $0 > 0 }
            return ImageStatistics.Channel(count: n, nanCount: 0, min: Double((lo ?? layout.offset) - layout.offset),
                                           max: Double((hi ?? layout.offset) - layout.offset), bins: h)
        }
        return ImageStatistics(kind: layout.kind, dataType: dataType, channelAxis: channelAxis, shape: shape, channels: channels)
    }

    func windows() -> [ChannelWindow] {
        counts.withLock { $0 }.map { h in
            let n = h.reduce(0, +)
            let offset = signed ? bins / 2 : 0
            func value(_ bin: Int) -> Double { Double(bin - offset) }
            guard n > 0 else { return ChannelWindow(min: 0, max: 0, start: 0, end: 0) }
            func atPosition(_ position: Int) -> Double {
                var seen = 0
                for (bin, c) in h.enumerated() {
                    seen += c
                    if seen > position { return value(bin) }
                }
                return value(bins - 1)
            }
            let lo = h.firstIndex { $0 > 0 }!, hi = h.lastIndex { $0 > 0 }!
            return ChannelWindow(min: value(lo), max: value(hi),
                                 start: atPosition(invertedCDFPosition(count: n, percentile: windowPercentiles.low)),
                                 end: atPosition(invertedCDFPosition(count: n, percentile: windowPercentiles.high)))
        }
    }
}

extension ChannelHistograms {
    /// Level-0 counts for `d`'s stored statistics and omero windows, or nil where the source
    /// dictates every channel's window (the samples of an RGB picture: 0–255):
    /// `omeroChannels` puts that range in place of the histogram's, and renders of such
    /// pictures window their region (`stats=region`). Counting a slide's level 0 for windows
    /// it then discarded cost 4 % of its conversion (Docs/convert.md, "Slides").
    static func forImage(_ d: ImageDescription) -> ChannelHistograms? {
        guard sourceWindows(d) == nil else { return nil }
        return ChannelHistograms(statisticsOf: d.dataType, channels: d.channels.count, channelAxis: d.axisIndex("c"))
    }
}

/// The windows the source dictates for every channel (`ChannelInfo.window`), or nil when
/// any channel leaves its window to the pixels.
func sourceWindows(_ d: ImageDescription) -> [ChannelWindow]? {
    let ranges = d.channels.compactMap(\.window)
    guard !d.channels.isEmpty, ranges.count == d.channels.count else { return nil }
    return ranges.map(ChannelWindow.init(range:))
}

/// A keyed histogram's exact extremes and NaN count for one channel.
struct ChannelExtremes: Sendable, Equatable {
    var nanCount = 0
    var min = Double.infinity
    var max = -Double.infinity

    mutating func merge(_ o: ChannelExtremes) {
        nanCount += o.nanCount
        min = Swift.min(min, o.min)
        max = Swift.max(max, o.max)
    }
}

/// Windows by sorting every value of each channel: for the smallest level of types
/// without a histogram (it is at most one chunk in y and x, so this stays cheap).
func sortedWindows(_ buffer: NDBuffer, channelAxis: Int?) -> [ChannelWindow] {
    let values = doubles(buffer)
    let shape = buffer.shape
    let channels = channelAxis.map { shape[$0] } ?? 1
    let inner = channelAxis.map { shape[($0 + 1)...].reduce(1, *) } ?? values.count
    let outer = channelAxis.map { shape[..<$0].reduce(1, *) } ?? 1
    return (0..<channels).map { k in
        var v = [Double]()
        v.reserveCapacity(outer * inner)
        for o in 0..<outer {
            let start = (o * channels + k) * inner
            v.append(contentsOf: values[start..<(start + inner)].filter { !$0.isNaN })
        }
        guard !v.isEmpty else { return ChannelWindow(min: 0, max: 0, start: 0, end: 0) }
        v.sort()
        return ChannelWindow(min: v[0], max: v[v.count - 1],
                             start: v[invertedCDFPosition(count: v.count, percentile: windowPercentiles.low)],
                             end: v[invertedCDFPosition(count: v.count, percentile: windowPercentiles.high)])
    }
}

/// Every element as a Double (windows only; not a hot path).
func doubles(_ b: NDBuffer) -> [Double] {
    b.bytes.withUnsafeBytes { raw in
        func map<T>(_: T.Type, _ f: (T) -> Double) -> [Double] {
            let p = raw.bindMemory(to: T.self)
            return p.map(f)
        }
        switch b.dataType {
        case .bool, .uint8: return map(UInt8.self) { Double($0) }
        case .int8: return map(Int8.self) { Double($0) }
        case .uint16: return map(UInt16.self) { Double($0) }
        case .int16: return map(Int16.self) { Double($0) }
        case .uint32: return map(UInt32.self) { Double($0) }
        case .int32: return map(Int32.self) { Double($0) }
        case .uint64: return map(UInt64.self) { Double($0) }
        case .int64: return map(Int64.self) { Double($0) }
        case .float32: return map(Float.self) { Double($0) }
        case .float64: return map(Double.self) { $0 }
        case .float16: return map(UInt16.self) { _ in Double.nan }
        }
    }
}
