@testable import Render
import Testing
import TestSupport
import ZarrCore

/// Percentiles against numpy 2.4's `np.percentile` (values printed by numpy on this
/// machine) and against a sort-based restatement of its formula on random data.
@Suite struct PercentileTests {
    func plane<T>(_ t: DataType, _ values: [T]) -> PlaneBuffer {
        PlaneBuffer(dataType: t, width: values.count, height: 1, bytes: TestImages.bytes(values))
    }

    @Test func equalsNumpyOnKnownValues() {
        #expect(Percentile.linear(plane(.uint16, [UInt16(3), 9, 100]), [1, 99]) == [3.12, 98.17999999999999])
        #expect(Percentile.linear(plane(.float32, [Float(1.5), 2.25, 7.1, 9.3]), [1, 99.9, 50, 37.5])
            == [1.5225, 9.293400189876557, 4.674999952316284, 2.856249988079071])
        #expect(Percentile.linear(plane(.int16, [Int16(5), -3, 7, 7, 2, -3, 11, 0]), [0, 10, 33.3, 50, 62.5, 90, 100])
            == [-3.0, -3.0, 0.661999999999999, 3.5, 5.75, 8.2, 11.0])
    }

    @Test func nanIsLeftOutAndAllNaNIsNaN() {
        #expect(Percentile.linear(plane(.float64, [Double.nan, 1, 3, .nan]), [50]) == [2])
        #expect(Percentile.linear(plane(.float64, [Double.nan]), [50])[0].isNaN)
    }

    /// numpy's formula restated over a full sort.
    func reference(_ sorted: [Double], _ p: Double) -> Double {
        let n = sorted.count
        let h = Double(n - 1) * (p / 100)
        if h >= Double(n - 1) { return sorted[n - 1] }
        let k = Int(h.rounded(.down)), g = h - Double(k)
        let a = sorted[k], b = sorted[k + 1], d = b - a
        return g >= 0.5 ? b - d * (1 - g) : a + d * g
    }

    @Test(arguments: [1, 2, 3, 17, 1000, 4097])
    func histogramAndSelectionAgreeWithSorting(count: Int) {
        var rng = SplitMix64(seed: UInt64(count))
        let small = (0..<count).map { _ in UInt16(rng.next() % 300) }  // many ties
        let wide = (0..<count).map { _ in Double(Int(rng.next() % 2000)) - 1000.5 }
        let ps = [0, 0.1, 1, 25, 50, 62.5, 99, 99.9, 100]
        #expect(Percentile.linear(plane(.uint16, small), ps) == ps.map { reference(small.map(Double.init).sorted(), $0) })
        #expect(Percentile.linear(plane(.float64, wide), ps) == ps.map { reference(wide.sorted(), $0) })
        let asInt32 = wide.map { Int32($0 + 0.5) }
        #expect(Percentile.linear(plane(.int32, asInt32), ps) == ps.map { reference(asInt32.map(Double.init).sorted(), $0) })
    }
}
