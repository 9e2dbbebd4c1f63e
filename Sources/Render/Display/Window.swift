/// A display window: values `start…end` map to 0…1 (Docs/render.md, "Window").
///
/// `v = clamp((x − start)/(end − start), 0, 1)` in float64; when `end == start`,
/// `v = x ≥ end ? 1 : 0`; `inverted` gives `1 − v`; NaN is 0 (black) either way.
public struct DisplayWindow: Sendable, Equatable, CustomStringConvertible {
    public var start: Double
    public var end: Double
    public var inverted: Bool

    public init(start: Double, end: Double, inverted: Bool = false) {
        self.start = start
        self.end = end
        self.inverted = inverted
    }

    @inline(__always) public func fraction(_ x: Double) -> Double {
        if x.isNaN { return 0 }
        var v: Double
        if end == start {
            v = x >= end ? 1 : 0
        } else {
            v = (x - start) / (end - start)
            if !(v >= 0) { v = 0 } else if v > 1 { v = 1 }
        }
        return inverted ? 1 - v : v
    }

    public var description: String { "\(Self.text(start)),\(Self.text(end))" }

    /// Whole numbers without a fraction, others as Swift prints them (shortest round trip).
    static func text(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

/// 8- or 16-bit samples, gray (1 per pixel) or RGB (3), ready for an encoder; 16-bit
/// samples are stored little-endian.
public struct DisplayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var samplesPerPixel: Int
    public var bits: Int
    public var bytes: [UInt8]
}

/// The quantisation to n bits: `⌊v·(2ⁿ − 1) + ½⌋`.
@inline(__always) func quantise(_ v: Double, max: Double) -> Double { (v * max + 0.5).rounded(.down) }

/// Windowing and colouring planes into a `DisplayImage`.
public enum Display {
    /// One channel in gray, 8 or 16 bits.
    public static func gray(_ plane: PlaneBuffer, window: DisplayWindow, bits: Int) -> DisplayImage {
        if bits == 16 {
            let values: [UInt16] = map(plane) { UInt16(quantise(window.fraction($0), max: 65535)) }
            return DisplayImage(width: plane.width, height: plane.height, samplesPerPixel: 1, bits: 16, bytes: bytesOf(values))
        }
        return DisplayImage(width: plane.width, height: plane.height, samplesPerPixel: 1, bits: 8, bytes: levels8(plane, window))
    }

    /// One channel through a 256-entry colour table (index `⌊v·255 + ½⌋`).
    public static func colormap(_ plane: PlaneBuffer, window: DisplayWindow, table: [UInt8]) -> DisplayImage {
        let index = levels8(plane, window)
        var out = [UInt8](repeating: 0, count: index.count * 3)
        for (i, k) in index.enumerated() {
            let t = Int(k) * 3
            out[3 * i] = table[t]
            out[3 * i + 1] = table[t + 1]
            out[3 * i + 2] = table[t + 2]
        }
        return DisplayImage(width: plane.width, height: plane.height, samplesPerPixel: 3, bits: 8, bytes: out)
    }

    /// Channels added in their colours (napari's and vizarr's additive blending):
    /// `out_k = min(255, ⌊Σ_c v_c·colour_c,k + ½⌋)`, summed in channel order in float64.
    public static func composite(_ planes: [PlaneBuffer], windows: [DisplayWindow],
                                 colors: [(red: Double, green: Double, blue: Double)]) -> DisplayImage {
        let width = planes[0].width, height = planes[0].height, n = width * height
        var r = [Double](repeating: 0, count: n), g = r, b = r
        for (c, plane) in planes.enumerated() {
            let window = windows[c], color = colors[c]
            let v: [Double] = map(plane) { window.fraction($0) }
            for i in 0..<n {
                r[i] += v[i] * color.red
                g[i] += v[i] * color.green
                b[i] += v[i] * color.blue
            }
        }
        var out = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            out[3 * i] = UInt8(min(255, (r[i] + 0.5).rounded(.down)))
            out[3 * i + 1] = UInt8(min(255, (g[i] + 0.5).rounded(.down)))
            out[3 * i + 2] = UInt8(min(255, (b[i] + 0.5).rounded(.down)))
        }
        return DisplayImage(width: width, height: height, samplesPerPixel: 3, bits: 8, bytes: out)
    }

    /// The 8-bit levels of every value of the plane, row-major: `map` with
    /// `DisplayWindow.levels8`'s table, which computes only the values inside the window.
    static func levels8(_ plane: PlaneBuffer, _ window: DisplayWindow) -> [UInt8] {
        throughTable(plane) { offset, bins in window.levels8(from: -offset, count: bins) } ?? map(plane) { window.level8($0) }
    }

    /// `transform` of every value of the plane (as float64), row-major. Integers of at
    /// most 16 bits go through a table of every possible value, so the pixel loop is one
    /// lookup and the result is the same as computing each pixel.
    static func map<O>(_ plane: PlaneBuffer, _ transform: @escaping (Double) -> O) -> [O] {
        throughTable(plane) { offset, bins in (0..<bins).map { transform(Double($0 - offset)) } }
            ?? withScalarType(plane.dataType, Each(plane: plane, transform: transform))
    }

    /// Integers of at most 16 bits: each value looked up in `table(offset, bins)`, whose
    /// entry `i` is for the value `i − offset`; nil for other types.
    private static func throughTable<O>(_ plane: PlaneBuffer, _ table: (_ offset: Int, _ bins: Int) -> [O]) -> [O]? {
        switch plane.dataType {
        case .bool, .uint8: return lookup(plane, UInt8.self, offset: 0, table(0, 256))
        case .int8: return lookup(plane, Int8.self, offset: 128, table(128, 256))
        case .uint16: return lookup(plane, UInt16.self, offset: 0, table(0, 65536))
        case .int16: return lookup(plane, Int16.self, offset: 32768, table(32768, 65536))
        default: return nil
        }
    }

    private static func lookup<T: RenderScalar & FixedWidthInteger, O>(_ plane: PlaneBuffer, _: T.Type, offset: Int,
                                                                      _ table: [O]) -> [O] {
        let n = plane.width * plane.height
        return plane.bytes.withUnsafeBytes { raw in
            table.withUnsafeBufferPointer { lut in
                let src = raw.bindMemory(to: T.self).baseAddress!
                let entries = lut.baseAddress! + offset  // indexable by the value itself
                return [O](unsafeUninitializedCapacity: n) { out, initialized in
                    let o = out.baseAddress!
                    for i in 0..<n { (o + i).initialize(to: entries[Int(src[i])]) }
                    initialized = n
                }
            }
        }
    }

    private struct Each<O>: ScalarVisitor {
        let plane: PlaneBuffer
        let transform: (Double) -> O
        func visit<T: RenderScalar>(_: T.Type) -> [O] {
            elements(plane.bytes, as: T.self).map { transform($0.double) }
        }
    }
}
