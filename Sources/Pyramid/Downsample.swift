import ZarrCore

/// How a 2 (×2 ×2) block of pixels becomes one pixel of the next level.
public enum DownsampleMethod: String, CaseIterable, Sendable {
    /// Intensities: the mean, rounded half up for integers.
    case mean
    /// The block's first pixel, `a[::2, ::2]`.
    case nearest
    /// Labels: the most frequent value, ties to the smallest.
    case mode
    /// The largest value (NaN if any is NaN).
    case max
}

public enum DownsampleError: Error, CustomStringConvertible {
    case unsupported(DataType, DownsampleMethod)
    case badFactors([Int])

    public var description: String {
        switch self {
        case let .unsupported(t, m): return "\(m.rawValue) downsampling of \(t.rawValue) data is not supported"
        case let .badFactors(f): return "downsampling factors \(f) must be 1 or 2, and 2 only on the last three axes"
        }
    }
}

/// Shrinks `input` by `factors` (1 or 2 per axis; 2 only on the last three axes, which
/// is where NGFF puts z, y, x). Sizes become ceil(size / 2); a block at an odd edge is
/// partial and only its existing pixels count.
public func downsample(_ input: NDBuffer, factors: [Int], method: DownsampleMethod) throws -> NDBuffer {
    let rank = input.shape.count
    guard factors.count == rank, factors.allSatisfy({ $0 == 1 || $0 == 2 }),
          factors.dropLast(3).allSatisfy({ $0 == 1 }) else { throw DownsampleError.badFactors(factors) }
    // View as [lead, Z, Y, X]: everything before the last three axes is a batch.
    let tail = Array(repeating: 1, count: max(0, 3 - rank)) + input.shape.suffix(3)
    let tailFactors = Array(repeating: 1, count: max(0, 3 - rank)) + factors.suffix(3)
    let lead = input.shape.dropLast(3).reduce(1, *)
    let geometry = BlockGeometry(lead: lead, size: (tail[0], tail[1], tail[2]), factor: (tailFactors[0], tailFactors[1], tailFactors[2]))
    let outShape = zip(input.shape, factors).map { ($0 + $1 - 1) / $1 }
    let count = outShape.reduce(1, *) * input.dataType.size
    var failure: (any Error)?
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        input.bytes.withUnsafeBytes { src in
            do {
                try dispatch(input.dataType, method: method, geometry, src.baseAddress!, UnsafeMutableRawPointer(out.baseAddress!))
            } catch { failure = error }
        }
    }
    if let failure { throw failure }
    return NDBuffer(dataType: input.dataType, shape: outShape, bytes: bytes)
}

struct BlockGeometry {
    var lead: Int
    var size: (z: Int, y: Int, x: Int)
    var factor: (z: Int, y: Int, x: Int)
    var outSize: (z: Int, y: Int, x: Int) {
        ((size.z + factor.z - 1) / factor.z, (size.y + factor.y - 1) / factor.y, (size.x + factor.x - 1) / factor.x)
    }
}

private func dispatch(_ type: DataType, method: DownsampleMethod, _ g: BlockGeometry,
                      _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer) throws {
    func run<T: BlockReducible>(_: T.Type) {
        let s = src.assumingMemoryBound(to: T.self), d = dst.assumingMemoryBound(to: T.self)
        switch method {
        case .mean: reduceBlocks(g, s, d, T.mean)
        case .nearest: reduceBlocks(g, s, d) { $0[0] }
        case .max: reduceBlocks(g, s, d, T.maximum)
        case .mode: reduceBlocks(g, s, d, T.mode)
        }
    }
    func runMean<T: BlockReducible & FixedWidthInteger & UnsignedInteger, W: FixedWidthInteger & UnsignedInteger>(_: T.Type, sum: W.Type) {
        reduceBlocks(g, src.assumingMemoryBound(to: T.self), dst.assumingMemoryBound(to: T.self), T.mean,
                     pairRow: { meanOfPairs($0, $1, $2, $3, sum: W.self) })
    }
    switch type {
    // 8 8-bit values sum to at most 2040: 16-bit sums, twice the lanes of 32-bit ones.
    case .uint8 where method == .mean: runMean(UInt8.self, sum: UInt16.self)
    case .uint16 where method == .mean: runMean(UInt16.self, sum: UInt32.self)
    case .bool, .uint8: run(UInt8.self)
    case .int8: run(Int8.self)
    case .uint16: run(UInt16.self)
    case .int16: run(Int16.self)
    case .uint32: run(UInt32.self)
    case .int32: run(Int32.self)
    case .uint64: run(UInt64.self)
    case .int64: run(Int64.self)
    case .float32: run(Float.self)
    case .float64: run(Double.self)
    case .float16:
        guard method == .nearest else { throw DownsampleError.unsupported(type, method) }
        run(UInt16.self)
    }
}

/// Visits every output pixel, gathers its block (first pixel first, in C order) into a
/// small buffer and stores `reduce(block)`. The rows a block spans are resolved once per
/// output row, so the per-pixel work is the gather and the reduction only.
@inline(__always)
private func reduceBlocks<T>(_ g: BlockGeometry, _ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>,
                             _ reduce: (UnsafeBufferPointer<T>) -> T,
                             pairRow: ((UnsafeMutablePointer<UnsafePointer<T>>, Int, Int, UnsafeMutablePointer<T>) -> Void)? = nil) {
    let (Z, Y, X) = g.size
    let (fz, fy, fx) = g.factor
    let (oz, oy, ox) = g.outSize
    let pairs = fx == 2 ? X / 2 : 0 // output pixels whose x extent is complete (2 wide)
    withUnsafeTemporaryAllocation(of: T.self, capacity: 8) { block in
        withUnsafeTemporaryAllocation(of: UnsafePointer<T>.self, capacity: 4) { rows in
            var out = dst
            for l in 0..<g.lead {
                let volume = src + l * Z * Y * X
                for z in 0..<oz {
                    let z0 = z * fz, zn = min(fz, Z - z0)
                    for y in 0..<oy {
                        let y0 = y * fy, yn = min(fy, Y - y0)
                        var rowCount = 0
                        for dz in 0..<zn {
                            for dy in 0..<yn {
                                rows[rowCount] = volume + ((z0 + dz) * Y + (y0 + dy)) * X
                                rowCount += 1
                            }
                        }
                        if let pairRow {
                            pairRow(rows.baseAddress!, rowCount, pairs, out)
                            out += pairs
                        } else {
                            for x in 0..<pairs {
                                for r in 0..<rowCount {
                                    block[2 * r] = rows[r][2 * x]
                                    block[2 * r + 1] = rows[r][2 * x + 1]
                                }
                                out.pointee = reduce(UnsafeBufferPointer(rebasing: block[0..<(2 * rowCount)]))
                                out += 1
                            }
                        }
                        for x in pairs..<ox {
                            let x0 = x * fx, xn = min(fx, X - x0)
                            var n = 0
                            for r in 0..<rowCount {
                                for dx in 0..<xn {
                                    block[n] = rows[r][x0 + dx]
                                    n += 1
                                }
                            }
                            out.pointee = reduce(UnsafeBufferPointer(rebasing: block[0..<n]))
                            out += 1
                        }
                    }
                }
            }
        }
    }
}

/// The common case at full speed: the mean of 2-wide blocks over 1, 2 or 4 rows of
/// 8- or 16-bit unsigned pixels, summed in `W` (wide enough for 8 of them: 16 bits for
/// 8-bit pixels, 32 for 16-bit: twice the pixels' width), rounded half up by a shift.
@inline(__always)
private func meanOfPairs<T: FixedWidthInteger & UnsignedInteger, W: FixedWidthInteger & UnsignedInteger>(
    _ rows: UnsafeMutablePointer<UnsafePointer<T>>, _ rowCount: Int, _ pairs: Int, _ out: UnsafeMutablePointer<T>, sum _: W.Type
) {
    let n = W(2 * rowCount), shift = W(n.trailingZeroBitCount), half = n / 2
    assert(W.bitWidth == 2 * T.bitWidth, "sums are twice the pixels' width")
    // Both pixels of a pair in one load of twice their width, split by a mask and a shift
    // (their sum does not depend on the byte order): unit-stride loads, which vectorise
    // on any x86-64, where two strided byte loads do not.
    @inline(__always) func pair(_ p: UnsafePointer<T>, _ x: Int) -> W {
        let w = UnsafeRawPointer(p + 2 &* x).loadUnaligned(as: W.self)
        return (w & W(truncatingIfNeeded: T.max)) &+ (w &>> T.bitWidth)
    }
    // Constant masking shifts (`&>>`) in the common cases: a plain `>>` by a variable
    // checks for over-shifting on every pixel, which keeps the loop from vectorising.
    switch rowCount {
    case 4:
        let (a, b, c, d) = (rows[0], rows[1], rows[2], rows[3])
        for x in 0..<pairs { out[x] = T(truncatingIfNeeded: (pair(a, x) &+ pair(b, x) &+ pair(c, x) &+ pair(d, x) &+ 4) &>> 3) }
    case 2:
        let (a, b) = (rows[0], rows[1])
        for x in 0..<pairs { out[x] = T(truncatingIfNeeded: (pair(a, x) &+ pair(b, x) &+ 2) &>> 2) }
    default:
        for x in 0..<pairs {
            var sum = half
            for r in 0..<rowCount { sum &+= pair(rows[r], x) }
            out[x] = T(truncatingIfNeeded: sum &>> shift)
        }
    }
}

/// Per-type block reductions. Integers average exactly (round half up), floats in
/// double precision.
protocol BlockReducible: Comparable {
    static func mean(_ values: UnsafeBufferPointer<Self>) -> Self
    static func maximum(_ values: UnsafeBufferPointer<Self>) -> Self
}

extension BlockReducible {
    static func maximum(_ values: UnsafeBufferPointer<Self>) -> Self {
        var m = values[0]
        for v in values.dropFirst() where v > m { m = v }
        return m
    }

    /// The most frequent value; ties go to the smallest.
    static func mode(_ values: UnsafeBufferPointer<Self>) -> Self {
        var best = values[0], bestCount = 0
        for v in values {
            var count = 0
            for w in values where w == v { count += 1 }
            if count > bestCount || (count == bestCount && v < best) {
                best = v
                bestCount = count
            }
        }
        return best
    }
}

/// floor((2·sum + n) / (2n)) = floor(sum / n + 1/2). A block holds 1, 2, 4 or 8 pixels,
/// so the division is an arithmetic shift (which floors negative sums too) — no integer
/// division in the hot loop.
@inline(__always)
private func roundedMean<W: FixedWidthInteger & SignedInteger>(_ sum: W, _ n: W) -> W {
    assert(n & (n - 1) == 0, "blocks hold 1, 2, 4 or 8 pixels")
    return (2 * sum + n) >> (2 * n).trailingZeroBitCount
}

extension UInt8: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(integerMean(v)) } }
extension Int8: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(integerMean(v)) } }
extension UInt16: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(integerMean(v)) } }
extension Int16: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(integerMean(v)) } }
extension UInt32: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(integerMean(v)) } }
extension Int32: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(integerMean(v)) } }
extension UInt64: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(wideIntegerMean(v)) } }
extension Int64: BlockReducible { static func mean(_ v: UnsafeBufferPointer<Self>) -> Self { Self(wideIntegerMean(v)) } }

@inline(__always)
private func integerMean<T: BinaryInteger>(_ v: UnsafeBufferPointer<T>) -> Int64 {
    var sum: Int64 = 0
    for x in v { sum += Int64(x) }
    return roundedMean(sum, Int64(v.count))
}

/// 64-bit types can overflow a 64-bit sum of 8 values: sum in 128 bits.
private func wideIntegerMean<T: BinaryInteger>(_ v: UnsafeBufferPointer<T>) -> Int128 {
    var sum: Int128 = 0
    for x in v { sum += Int128(x) }
    return roundedMean(sum, Int128(v.count))
}

extension Float: BlockReducible {
    static func mean(_ v: UnsafeBufferPointer<Self>) -> Self {
        var sum = 0.0
        for x in v { sum += Double(x) }
        return Float(sum / Double(v.count))
    }

    static func maximum(_ v: UnsafeBufferPointer<Self>) -> Self {
        var m = v[0]
        for x in v { if x.isNaN { return x }; if x > m { m = x } }
        return m
    }
}

extension Double: BlockReducible {
    static func mean(_ v: UnsafeBufferPointer<Self>) -> Self {
        var sum = 0.0
        for x in v { sum += x }
        return sum / Double(v.count)
    }

    static func maximum(_ v: UnsafeBufferPointer<Self>) -> Self {
        var m = v[0]
        for x in v { if x.isNaN { return x }; if x > m { m = x } }
        return m
    }
}
