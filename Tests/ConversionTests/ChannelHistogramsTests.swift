@testable import Conversion
import ImageSources
import Testing
import ZarrCore

/// `ChannelHistograms` counts exactly what a plain loop counts, per channel, for every
/// type it takes, whatever the block's length (its fast loops take 4 or 2 values at a
/// time) and wherever the channel axis is.
@Suite struct ChannelHistogramsTests {
    /// Pseudo-random bytes with runs of equal values (which the several tables are for).
    func bytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var out = [UInt8]()
        out.reserveCapacity(n)
        while out.count < n {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let value = UInt8(truncatingIfNeeded: state >> 33), run = Int(state >> 60) % 5 + 1
            out.append(contentsOf: repeatElement(value, count: min(run, n - out.count)))
        }
        return out
    }

    /// The plain count: bin of each value (signed values offset by half the bins).
    func reference(_ block: NDBuffer, channelAxis: Int?, channels: Int) -> [[Int]] {
        let size = block.dataType.size, bins = size == 1 ? 256 : 65536
        let signed = block.dataType == .int8 || block.dataType == .int16
        var counts = Array(repeating: Array(repeating: 0, count: bins), count: channels)
        let strides = cStrides(block.shape)
        for i in 0..<block.elementCount {
            let channel = channelAxis.map { (i / strides[$0]) % block.shape[$0] } ?? 0
            var v = Int(block.bytes[i * size])
            if size == 2 { v |= Int(block.bytes[i * size + 1]) << 8 }
            if signed { v = (v + bins / 2) % bins }
            counts[channel][v] += 1
        }
        return counts
    }

    @Test(arguments: [DataType.uint8, .int8, .uint16, .int16])
    func countsEqualAPlainLoop(_ type: DataType) throws {
        for (shape, axis) in [([3, 37, 29], 0), ([5, 2, 7, 3], 1), ([1001], nil), ([2, 3, 1], 2)] as [([Int], Int?)] {
            let channels = axis.map { shape[$0] } ?? 1
            let n = shape.reduce(1, *)
            let block = NDBuffer(dataType: type, shape: shape, bytes: bytes(n * type.size, seed: UInt64(n)))
            let histograms = try #require(ChannelHistograms(dataType: type, channels: channels, channelAxis: axis))
            histograms.add(block, at: Region(shape: shape))
            histograms.add(block, at: Region(shape: shape)) // counts add up
            let expected = reference(block, channelAxis: axis, channels: channels).map { $0.map { 2 * $0 } }
            #expect(histograms.snapshot == expected, "\(type) \(shape)")
        }
    }

    /// Nothing counts level 0 where the source dictates every window (RGB samples: 0–255):
    /// `omeroChannels` would put the dictated range in place of the histogram's anyway.
    @Test func noHistogramsWhereTheSourceDictatesEveryWindow() {
        func image(_ channels: [ChannelInfo]) -> ImageDescription {
            ImageDescription(name: "i", axes: ["c", "y", "x"].map { ImageAxis(name: $0) }, shape: [channels.count, 4, 4],
                             dataType: .uint8, channels: channels, readBlock: [1, 4, 4])
        }
        let rgb = image(ChannelInfo.rgb)
        #expect(ChannelHistograms.forImage(rgb) == nil)
        #expect(sourceWindows(rgb) == Array(repeating: ChannelWindow(min: 0, max: 255, start: 0, end: 255), count: 3))
        let grey = image([ChannelInfo(), ChannelInfo()])
        #expect(ChannelHistograms.forImage(grey) != nil)
        #expect(sourceWindows(grey) == nil)
        // One channel left to its pixels is enough to count them all.
        let mixed = image([ChannelInfo(window: 0...255), ChannelInfo()])
        #expect(ChannelHistograms.forImage(mixed) != nil)
    }
}
