@testable import Conversion
import NGFF
import Testing
import ZarrCore

/// The keyed counts behind the stored statistics of float and 32/64-bit integer images:
/// each value's bin, exact extremes, NaNs apart, per channel; and a block's record (with
/// its extremes) reads back whole, so a resume merges the same numbers.
@Suite struct KeyedHistogramsTests {
    @Test func countsKeysExtremesAndNaNsPerChannel() throws {
        // Shape (2 channels, 3 values): channel 0 = [1.5, NaN, -7], channel 1 = [1e30, 0, 2].
        let values: [Float] = [1.5, .nan, -7, 1e30, 0, 2]
        let block = NDBuffer(dataType: .float32, shape: [2, 3], bytes: values.withUnsafeBytes { Array($0) })
        let h = try #require(ChannelHistograms(statisticsOf: .float32, channels: 2, channelAxis: 0))
        #expect(!h.isExact)
        h.add(block, at: Region(origin: [0, 0], shape: [2, 3]))
        let stats = try #require(h.statistics(dataType: .float32, shape: [2, 3]))
        #expect(stats.kind == .keyed)
        #expect(stats.channels[0].count == 2 && stats.channels[0].nanCount == 1)
        #expect(stats.channels[0].min == -7 && stats.channels[0].max == 1.5)
        #expect(stats.channels[0].bins[ImageStatistics.key(1.5)] == 1 && stats.channels[0].bins[ImageStatistics.key(-7)] == 1)
        #expect(stats.channels[1].count == 3 && stats.channels[1].nanCount == 0)
        #expect(stats.channels[1].min == 0 && stats.channels[1].max == Double(Float(1e30)))
        #expect(ChannelHistograms(statisticsOf: .float16, channels: 1, channelAxis: nil) == nil)
        #expect(ChannelHistograms(statisticsOf: .uint16, channels: 1, channelAxis: nil)?.isExact == true)
    }

    @Test func blockRecordKeepsExtremes() throws {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 65536), count: 2)
        counts[0][5] = 3
        counts[1][65535] = 1
        let extremes = [ChannelExtremes(nanCount: 4, min: -2.5, max: 9), ChannelExtremes(nanCount: 0, min: -.infinity, max: 1e300)]
        let record = HistogramRecord(block: 7, region: Region(origin: [0, 0], shape: [2, 3]), counts: counts, extremes: extremes)
        let back = try #require(HistogramRecord(record.bytes, bins: 65536))
        #expect(back.extremes == extremes && back.counts == counts && back.block == 7)
        // Without extremes (8/16-bit) the record is as before.
        let plain = HistogramRecord(block: 1, region: Region(origin: [0], shape: [3]), counts: [[Int](repeating: 1, count: 256)])
        #expect(try #require(HistogramRecord(plain.bytes, bins: 256)).extremes == nil)
        // A record cut inside its extremes is treated as absent.
        #expect(HistogramRecord(Array(record.bytes.dropLast(8)), bins: 65536) == nil)
    }
}
