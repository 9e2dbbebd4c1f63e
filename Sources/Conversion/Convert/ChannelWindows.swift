import Synchronization
import ZarrCore

/// A channel's value range and its 0.1/99.9 percentile rendering window (omero `window`).
struct ChannelWindow: Sendable, Equatable {
    var min: Double
    var max: Double
    var start: Double
    var end: Double
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
final class ChannelHistograms: Sendable {
    private let bins: Int
    private let signed: Bool
    private let channelAxis: Int?
    private let counts: Mutex<[[Int]]>

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
    }

    /// Counts `block`, which sits at `region` of level 0.
    func add(_ block: NDBuffer, at region: Region) {
        let shape = block.shape
        let (outer, channels, inner): (Int, Int, Int)
        if let c = channelAxis {
            outer = shape[..<c].reduce(1, *)
            channels = shape[c]
            inner = shape[(c + 1)...].reduce(1, *)
        } else {
            (outer, channels, inner) = (1, 1, block.elementCount)
        }
        let firstChannel = channelAxis.map { region.origin[$0] } ?? 0
        // 32-bit counts keep a 16-bit histogram at 256 KiB (cache-resident); two
        // interleaved tables let consecutive equal values not wait on each other's store.
        var local = Array(repeating: [UInt32](repeating: 0, count: 2 * bins), count: channels)
        let mask: UInt16 = signed ? (bins == 256 ? 0x80 : 0x8000) : 0
        block.bytes.withUnsafeBytes { raw in
            for o in 0..<outer {
                for k in 0..<channels {
                    let start = (o * channels + k) * inner
                    local[k].withUnsafeMutableBufferPointer { h in
                        let (h0, h1) = (h.baseAddress!, h.baseAddress! + bins)
                        func count<T: FixedWidthInteger>(_ p: UnsafePointer<T>) {
                            let m = T(truncatingIfNeeded: mask)
                            var i = 0
                            while i + 1 < inner {
                                h0[Int(p[i] ^ m)] &+= 1
                                h1[Int(p[i + 1] ^ m)] &+= 1
                                i += 2
                            }
                            if i < inner { h0[Int(p[i] ^ m)] &+= 1 }
                        }
                        if bins == 256 {
                            count(raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + start)
                        } else {
                            count(raw.baseAddress!.assumingMemoryBound(to: UInt16.self) + start)
                        }
                    }
                }
            }
        }
        counts.withLock { all in
            for k in 0..<channels {
                all[firstChannel + k].withUnsafeMutableBufferPointer { dst in
                    local[k].withUnsafeBufferPointer { h in
                        for i in 0..<bins { dst[i] += Int(h[i]) + Int(h[bins + i]) }
                    }
                }
            }
        }
    }

    /// Bins per channel.
    var binCount: Int { bins }

    /// The counts so far, per channel (kept in a split image's region markers).
    var snapshot: [[Int]] { counts.withLock { $0 } }

    /// Adds the counts of another part of the image (the regions of a split image).
    func merge(_ other: [[Int]]) {
        counts.withLock { all in
            for (k, h) in other.enumerated() where k < all.count && h.count == bins {
                for i in 0..<bins { all[k][i] += h[i] }
            }
        }
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
