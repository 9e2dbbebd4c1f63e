/// Percentiles exactly as numpy 2's default `np.percentile(a, [lo, hi])` ("linear",
/// `np.nanpercentile` for floats: NaNs are left out), so a window `pLOW,pHIGH` can be
/// checked against numpy to the last bit.
///
/// numpy: virtual index `h = (n − 1)·(p/100)`; `k = ⌊h⌋`, `g = h − k`; `a, b` the k-th
/// and (k+1)-th smallest; `d = b − a` computed in the data type (float32 data: a float32
/// difference); result `a + d·g`, or `b − d·(1 − g)` when `g ≥ ½`, in float64. When
/// `h ≥ n − 1` both are the largest value.
public enum Percentile {
    /// The percentiles `ps` (each 0–100) of a plane's values; NaN for a plane of NaNs only.
    public static func linear(_ plane: PlaneBuffer, _ ps: [Double]) -> [Double] {
        switch plane.dataType {
        case .bool, .uint8: return Histogram(plane, UInt8.self, offset: 0, bins: 256).percentiles(ps)
        case .int8: return Histogram(plane, Int8.self, offset: 128, bins: 256).percentiles(ps)
        case .uint16: return Histogram(plane, UInt16.self, offset: 0, bins: 65536).percentiles(ps)
        case .int16: return Histogram(plane, Int16.self, offset: 32768, bins: 65536).percentiles(ps)
        default: return withScalarType(plane.dataType, BySelection(plane: plane, ps: ps))
        }
    }

    /// numpy's interpolation between the order statistics, given a way to fetch the k-th
    /// smallest value and the type's own subtraction.
    static func interpolate(count n: Int, _ p: Double, value: (Int) -> Double, difference: (Int, Int) -> Double) -> Double {
        guard n > 0 else { return .nan }
        let h = Double(n - 1) * (p / 100)
        let k: Int, g: Double
        if h >= Double(n - 1) {
            k = n - 1
            g = 0
            return value(k)
        } else {
            k = Int(h.rounded(.down))
            g = h - Double(k)
        }
        let a = value(k), b = value(k + 1), d = difference(k, k + 1)
        return g >= 0.5 ? b - d * (1 - g) : a + d * g
    }

    /// ≤16-bit integers: one counting pass, then the order statistics by walking the bins.
    struct Histogram {
        var counts: [Int]
        let offset: Int
        let total: Int

        init<T: RenderScalar & FixedWidthInteger>(_ plane: PlaneBuffer, _: T.Type, offset: Int, bins: Int) {
            let n = plane.bytes.count / MemoryLayout<T>.size
            self.total = n
            self.counts = Self.count(plane.bytes, T.self, offset: offset, bins: bins)
            self.offset = offset
        }

        /// The counting pass, one of the render's hottest loops: unchecked pointers (the
        /// value plus `offset` is always a bin) and no per-value overflow check (a count
        /// cannot pass Int.max).
        static func count<T: FixedWidthInteger>(_ bytes: [UInt8], _: T.Type, offset: Int, bins: Int) -> [Int] {
            let n = bytes.count / MemoryLayout<T>.size
            var counts = [Int](repeating: 0, count: bins)
            counts.withUnsafeMutableBufferPointer { c in
                bytes.withUnsafeBytes { raw in
                    guard let src = raw.baseAddress else { return }
                    let bin = c.baseAddress! + offset  // indexable by the value itself
                    for i in 0..<n { bin[Int(src.loadUnaligned(fromByteOffset: i &* MemoryLayout<T>.size, as: T.self))] &+= 1 }
                }
            }
            return counts
        }

        /// Counts already made (a stored exact histogram).
        init(counts: [Int], offset: Int, total: Int) {
            (self.counts, self.offset, self.total) = (counts, offset, total)
        }

        /// The k-th smallest value (0-based).
        func orderStatistic(_ k: Int) -> Int {
            var seen = 0
            for (bin, c) in counts.enumerated() where c > 0 {
                seen += c
                if seen > k { return bin - offset }
            }
            return counts.count - 1 - offset
        }

        func percentiles(_ ps: [Double]) -> [Double] {
            // Each order statistic walks the bins once, however often interpolate asks.
            var known = [Int: Int]()
            func kth(_ k: Int) -> Int {
                if let v = known[k] { return v }
                let v = orderStatistic(k)
                known[k] = v
                return v
            }
            return ps.map { p in
                Percentile.interpolate(count: total, p, value: { Double(kth($0)) }, difference: { Double(kth($1) - kth($0)) })
            }
        }
    }

    /// Other types: NaNs dropped, then quickselect for each order statistic needed.
    struct BySelection: ScalarVisitor {
        let plane: PlaneBuffer
        let ps: [Double]

        func visit<T: RenderScalar>(_: T.Type) -> [Double] {
            var values = elements(plane.bytes, as: T.self).filter { !$0.double.isNaN }
            let n = values.count
            var cache = [Int: T]()
            func kth(_ k: Int) -> T {
                if let v = cache[k] { return v }
                let v = select(&values, k)
                cache[k] = v
                return v
            }
            return ps.map { p in
                Percentile.interpolate(count: n, p, value: { kth($0).double }, difference: { i, j in
                    difference(kth(i), kth(j))
                })
            }
        }

        /// `b − a` as numpy computes it: in the data type for floats, exactly for integers.
        func difference<T: RenderScalar>(_ a: T, _ b: T) -> Double {
            switch (a, b) {
            case let (a as Float, b as Float): return Double(b - a)
            case let (a as Float16, b as Float16): return Double(b - a)
            case let (a as Double, b as Double): return b - a
            default:
                let (d, overflow) = b.int64.subtractingReportingOverflow(a.int64)
                return overflow ? b.double - a.double : Double(d)
            }
        }
    }

    /// The k-th smallest of `values` (0 ≤ k < count), partially reordering them:
    /// quickselect with a median-of-three pivot, sorting what is left after too many
    /// rounds so adversarial data costs O(n log n), never O(n²).
    static func select<T: RenderScalar>(_ values: inout [T], _ k: Int) -> T {
        var lo = 0, hi = values.count - 1
        var rounds = 0
        let limit = 2 * (Int.bitWidth - values.count.leadingZeroBitCount) + 8
        while hi > lo {
            rounds += 1
            if rounds > limit || hi - lo < 16 {
                let sorted = values[lo...hi].sorted { $0.double < $1.double }
                values.replaceSubrange(lo...hi, with: sorted)
                return values[k]
            }
            let mid = lo + (hi - lo) / 2
            let a = values[lo].double, b = values[mid].double, c = values[hi].double
            let pivot = max(min(a, b), min(max(a, b), c))
            var i = lo, j = hi
            while i <= j {
                while values[i].double < pivot { i += 1 }
                while values[j].double > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return values[k] }
        }
        return values[k]
    }
}
