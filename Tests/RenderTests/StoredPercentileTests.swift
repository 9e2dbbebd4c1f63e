import NGFF
import Testing
import ZarrCore
@testable import Render

/// `stats=image` percentiles from stored statistics: equal to the pixels' own (exact
/// histogram), or within one key bin of them (keyed).
@Suite struct StoredPercentileTests {
    @Test func exactHistogramGivesThePlanesPercentiles() {
        var rng = SystemRandomNumberGenerator()
        let values = (0..<5000).map { _ in UInt16.random(in: 100...140, using: &rng) }  // many ties
        var bins = [Int](repeating: 0, count: 65536)
        for v in values { bins[Int(v)] += 1 }
        let stats = ImageStatistics(kind: .exact, dataType: .uint16, channelAxis: nil, shape: [50, 100],
                                    channels: [.init(count: values.count, nanCount: 0, min: 100, max: 140, bins: bins)])
        let plane = PlaneBuffer(dataType: .uint16, width: 100, height: 50, bytes: values.withUnsafeBytes { Array($0) })
        let ps = [0, 0.1, 1, 37.5, 50, 99, 99.9, 100]
        #expect(Percentile.linear(stats, channel: 0, ps) == Percentile.linear(plane, ps))
    }

    @Test func keyedHistogramIsWithinOneBin() {
        var rng = SystemRandomNumberGenerator()
        let values = (0..<4000).map { _ in Float.random(in: -50...900, using: &rng) }
        var bins = [Int](repeating: 0, count: 65536)
        for v in values { bins[ImageStatistics.key(v)] += 1 }
        let sorted = values.map(Double.init).sorted()
        let stats = ImageStatistics(kind: .keyed, dataType: .float32, channelAxis: nil, shape: [40, 100],
                                    channels: [.init(count: values.count, nanCount: 0, min: sorted[0], max: sorted.last ?? 0, bins: bins)])
        let ps: [Double] = [0, 1, 25, 50, 75, 99, 100]
        let plane = PlaneBuffer(dataType: .float32, width: 100, height: 40, bytes: values.withUnsafeBytes { Array($0) })
        let exact = Percentile.linear(plane, ps)
        let got = Percentile.linear(stats, channel: 0, ps)
        for (i, p) in ps.enumerated() {
            let h = Double(values.count - 1) * p / 100
            let k = Int(h.rounded(.down))
            let bound = max(abs(sorted[k]), abs(sorted[min(k + 1, sorted.count - 1)])) / 128
            #expect(abs(got[i] - exact[i]) <= bound, "p\(p): \(got[i]) vs \(exact[i])")
        }
        #expect(got[0] == sorted[0] && got[ps.count - 1] == sorted[sorted.count - 1])
    }
}
