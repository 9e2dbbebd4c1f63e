/// Resampling a plane to the output size (Docs/render.md, "Resampling").
///
/// Area: output pixel i of m covers the source interval [i·n/m, (i+1)·n/m); source pixel
/// j weighs its overlap with it, scaled by m so that every weight is an integer and the
/// weights of one output pixel sum to n. Integers (up to 32 bits) are averaged exactly:
/// `floor(Σ wy·wx·v / (ny·nx) + ½)` in Int64. Floats use the same weights in float64
/// (x first, then y) and round once to the type. Nearest: source `floor((i + ½)·n/m)`.
public enum Resample2D {
    public static func resample(_ plane: PlaneBuffer, width m: Int, height mh: Int, method: Resample) -> PlaneBuffer {
        if m == plane.width && mh == plane.height { return plane }
        switch method {
        case .nearest: return withScalarType(plane.dataType, Nearest(plane: plane, outWidth: m, outHeight: mh))
        case .area: return withScalarType(plane.dataType, Area(plane: plane, outWidth: m, outHeight: mh))
        }
    }

    /// The source indices each output index takes, for nearest.
    static func nearestIndices(source n: Int, destination m: Int) -> [Int] {
        (0..<m).map { i in min(n - 1, (2 * i + 1) * n / (2 * m)) }
    }

    /// The area weights along one axis: for output index i, the first source index and
    /// the integer weights of the source indices from there.
    struct AxisWeights {
        var first: [Int]
        var weights: [[Int64]]

        init(source n: Int, destination m: Int) {
            first = []
            weights = []
            first.reserveCapacity(m)
            weights.reserveCapacity(m)
            for i in 0..<m {
                let lo = i * n, hi = (i + 1) * n          // the output pixel, in units of 1/m
                let j0 = lo / m, j1 = (hi - 1) / m        // the source pixels it touches
                first.append(j0)
                weights.append((j0...j1).map { j in Int64(min(hi, (j + 1) * m) - max(lo, j * m)) })
            }
        }
    }

    private struct Nearest: ScalarVisitor {
        let plane: PlaneBuffer, outWidth: Int, outHeight: Int
        func visit<T: RenderScalar>(_: T.Type) -> PlaneBuffer {
            let src = elements(plane.bytes, as: T.self)
            let xs = nearestIndices(source: plane.width, destination: outWidth)
            let ys = nearestIndices(source: plane.height, destination: outHeight)
            var out = [T]()
            out.reserveCapacity(outWidth * outHeight)
            for y in ys {
                let row = y * plane.width
                for x in xs { out.append(src[row + x]) }
            }
            return PlaneBuffer(dataType: plane.dataType, width: outWidth, height: outHeight, bytes: bytesOf(out))
        }
    }

    private struct Area: ScalarVisitor {
        let plane: PlaneBuffer, outWidth: Int, outHeight: Int

        func visit<T: RenderScalar>(_: T.Type) -> PlaneBuffer {
            let src = elements(plane.bytes, as: T.self)
            let wx = AxisWeights(source: plane.width, destination: outWidth)
            let wy = AxisWeights(source: plane.height, destination: outHeight)
            // Σ weights = nx·ny; with values under 2^32 the sums stay below 2^62 while
            // nx·ny ≤ 2^29, which the read cap guarantees; beyond that, float64.
            let divisor = Int64(plane.width) * Int64(plane.height)
            let out: [T] = T.exactInteger && divisor <= (1 << 29)
                ? integer(src, wx, wy, divisor)
                : floating(src, wx, wy, Double(divisor))
            return PlaneBuffer(dataType: plane.dataType, width: outWidth, height: outHeight, bytes: bytesOf(out))
        }

        func integer<T: RenderScalar>(_ src: [T], _ wx: AxisWeights, _ wy: AxisWeights, _ divisor: Int64) -> [T] {
            let w = plane.width, h = plane.height
            // Rows summed along x first: h × outWidth partial sums.
            var rows = [Int64](repeating: 0, count: h * outWidth)
            for y in 0..<h {
                let s = y * w, d = y * outWidth
                for i in 0..<outWidth {
                    var acc: Int64 = 0
                    var j = wx.first[i] + s
                    for weight in wx.weights[i] { acc += weight * src[j].int64; j += 1 }
                    rows[d + i] = acc
                }
            }
            var out = [T]()
            out.reserveCapacity(outWidth * outHeight)
            let twice = 2 * divisor
            for o in 0..<outHeight {
                let j0 = wy.first[o], weights = wy.weights[o]
                for i in 0..<outWidth {
                    var acc: Int64 = 0
                    for (k, weight) in weights.enumerated() { acc += weight * rows[(j0 + k) * outWidth + i] }
                    out.append(T(exactly64: floorDivide(2 * acc + divisor, twice)))
                }
            }
            return out
        }

        func floating<T: RenderScalar>(_ src: [T], _ wx: AxisWeights, _ wy: AxisWeights, _ divisor: Double) -> [T] {
            let w = plane.width, h = plane.height
            var rows = [Double](repeating: 0, count: h * outWidth)
            for y in 0..<h {
                let s = y * w, d = y * outWidth
                for i in 0..<outWidth {
                    var acc = 0.0
                    var j = wx.first[i] + s
                    for weight in wx.weights[i] { acc += Double(weight) * src[j].double; j += 1 }
                    rows[d + i] = acc
                }
            }
            var out = [T]()
            out.reserveCapacity(outWidth * outHeight)
            for o in 0..<outHeight {
                let j0 = wy.first[o], weights = wy.weights[o]
                for i in 0..<outWidth {
                    var acc = 0.0
                    for (k, weight) in weights.enumerated() { acc += Double(weight) * rows[(j0 + k) * outWidth + i] }
                    out.append(T(fromDouble: acc / divisor))
                }
            }
            return out
        }
    }
}

/// ⌊a / b⌋ for b > 0 (Swift's `/` truncates towards zero).
@inline(__always) func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && a < 0) ? q - 1 : q
}
