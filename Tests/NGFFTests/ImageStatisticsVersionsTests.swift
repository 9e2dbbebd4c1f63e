import NGFF
import Testing
import ZarrCore

/// The compact version 2 stats file: random histograms of every shape round-trip exactly,
/// it is a fraction of version 1's size, and version 1 files (written by earlier releases)
/// still read the same.
@Suite struct ImageStatisticsVersionsTests {
    /// A seeded generator (SplitMix64), so a failing case can be replayed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A channel of `bins` with `filled` non-empty bins whose counts are drawn up to
    /// `maxCount` (their sum kept within Int).
    static func channel(bins: Int, filled: Int, maxCount: Int, rng: inout Seeded) -> ImageStatistics.Channel {
        var h = [Int](repeating: 0, count: bins)
        var total = 0
        for bin in Array(0..<bins).shuffled(using: &rng).prefix(filled) {
            let room = Int.max - total
            guard room > 0 else { break }
            let n = Int.random(in: 1...Swift.min(maxCount, room), using: &rng)
            h[bin] = n
            total += n
        }
        let lo = h.firstIndex { $0 > 0 }, hi = h.lastIndex { $0 > 0 }
        return .init(count: total, nanCount: 0, min: Double(lo ?? 0), max: Double(hi ?? 0), bins: h)
    }

    static func roundTrip(_ stats: ImageStatistics) throws -> ImageStatistics {
        try ImageStatistics(parsing: stats.bytes, name: "fuzz/.tessera-stats.bin")
    }

    @Test func randomHistogramsRoundTrip() throws {
        var rng = Seeded(state: 28)
        let shapes: [(filled: Int, maxCount: Int)] = [
            (0, 1), (1, 1), (1, Int.max), (2, Int.max), (65536, 1), (65536, 300), (65536, Int.max / 65536),
            (65536, Int.max), (3, 1 << 62), (100, 1 << 40), (5000, 1_000_000), (30000, 70), (60000, 5),
        ]
        for (filled, maxCount) in shapes {
            let channels = (0..<2).map { _ in Self.channel(bins: 65536, filled: filled, maxCount: maxCount, rng: &rng) }
            let stats = ImageStatistics(kind: .exact, dataType: .uint16, channelAxis: 0, shape: [2, 7, 9], channels: channels)
            #expect(try Self.roundTrip(stats) == stats, "\(filled) bins up to \(maxCount)")
        }
        for _ in 0..<40 {
            let filled = Int.random(in: 0...256, using: &rng)
            let stats = ImageStatistics(kind: .exact, dataType: .int8, channelAxis: nil, shape: [Int.random(in: 1...1000, using: &rng)],
                                        channels: [Self.channel(bins: 256, filled: filled, maxCount: Int.random(in: 1...Int.max, using: &rng), rng: &rng)])
            #expect(try Self.roundTrip(stats) == stats)
        }
        // The ends of the range, alone and together; runs broken by single gaps.
        for bins in [[0], [65535], [0, 65535], Array(0..<65536).filter { $0 % 2 == 0 }, Array(0..<65536).filter { $0 % 9 != 4 }] {
            var h = [Int](repeating: 0, count: 65536)
            for b in bins { h[b] = 3 }
            let stats = ImageStatistics(kind: .exact, dataType: .int16, channelAxis: nil, shape: [3 * bins.count],
                                        channels: [.init(count: 3 * bins.count, nanCount: 0, min: Double(bins[0] - 32768), max: Double(bins[bins.count - 1] - 32768), bins: h)])
            #expect(try Self.roundTrip(stats) == stats, "bins \(bins.prefix(3))… (\(bins.count))")
        }
    }

    /// Keyed (float) statistics keep their exact extremes (any bit pattern but NaN),
    /// NaN counts and bins.
    @Test func keyedStatisticsRoundTrip() throws {
        var rng = Seeded(state: 7)
        for extremes: (Double, Double) in [(-.infinity, .infinity), (-0.0, 0.0), (.leastNonzeroMagnitude, .greatestFiniteMagnitude), (-3.25e-300, 1e300)] {
            var c = Self.channel(bins: 65536, filled: 1200, maxCount: 1 << 33, rng: &rng)
            (c.min, c.max, c.nanCount) = (extremes.0, extremes.1, Int.random(in: 0...Int.max, using: &rng))
            let stats = ImageStatistics(kind: .keyed, dataType: .float64, channelAxis: nil, shape: [1 << 40], channels: [c])
            let back = try Self.roundTrip(stats)
            #expect(back == stats)
            #expect(back.channels[0].min.bitPattern == extremes.0.bitPattern && back.channels[0].max.bitPattern == extremes.1.bitPattern)
        }
    }

    /// A noisy 16-bit image's histogram (every value of a wide range, counts of a few
    /// hundred): version 2 is a small fraction of version 1's 16 bytes a bin.
    @Test func noisySixteenBitHistogramIsSmall() throws {
        var rng = Seeded(state: 1)
        var h = [Int](repeating: 0, count: 65536)
        for _ in 0..<(1 << 20) { h[Int(UInt16.random(in: 1000...40999, using: &rng))] += 1 }
        let stats = ImageStatistics(kind: .exact, dataType: .uint16, channelAxis: nil, shape: [1024, 1024],
                                    channels: [.init(count: 1 << 20, nanCount: 0, min: 1000, max: 40999, bins: h)])
        let v1 = Self.v1Bytes(stats), v2 = stats.bytes
        #expect(try ImageStatistics(parsing: v1, name: "v1") == stats)
        #expect(try ImageStatistics(parsing: v2, name: "v2") == stats)
        #expect(v1.count == 4 + 8 * (5 + 2 + 1 + 5 + 2 * 40000 + 1))  // header, shape, channels, channel, pairs, checksum
        // A bitmap of the 40,000-bin range (5,000 bytes) and a 1-byte difference a bin, about.
        #expect(v2.count < 50_000, "v2 \(v2.count) bytes, v1 \(v1.count)")
    }

    // MARK: - Version 1

    /// Version 1's layout, written here from its description (Docs/render.md, "Stored
    /// statistics"), not by the code under test.
    static func v1Bytes(_ s: ImageStatistics) -> [UInt8] {
        var name: UInt64 = 0
        for (i, b) in s.dataType.rawValue.utf8.enumerated() { name |= UInt64(b) << (8 * UInt64(i)) }
        var words: [UInt64] = [1, s.kind.rawValue, name, s.channelAxis.map { UInt64($0) } ?? .max, UInt64(s.shape.count)]
        words += s.shape.map { UInt64($0) }
        words.append(UInt64(s.channels.count))
        for c in s.channels {
            words += [UInt64(c.count), UInt64(c.nanCount), c.min.bitPattern, c.max.bitPattern]
            let pairs = c.bins.enumerated().filter { $0.element > 0 }
            words.append(UInt64(pairs.count))
            for (bin, n) in pairs { words += [UInt64(bin), UInt64(n)] }
        }
        var out = Array("TSS1".utf8)
        for w in words { withUnsafeBytes(of: w.littleEndian) { out += $0 } }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in out { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        withUnsafeBytes(of: h.littleEndian) { out += $0 }
        return out
    }

    @Test func versionOneFilesStillRead() throws {
        var rng = Seeded(state: 3)
        let exact = ImageStatistics(kind: .exact, dataType: .uint16, channelAxis: 1, shape: [1, 3, 5, 5],
                                    channels: (0..<3).map { _ in Self.channel(bins: 65536, filled: 20, maxCount: 1000, rng: &rng) })
        var keyed = Self.channel(bins: 65536, filled: 50, maxCount: 9, rng: &rng)
        (keyed.min, keyed.max, keyed.nanCount) = (-2.5, 1e9, 4)
        let float = ImageStatistics(kind: .keyed, dataType: .float32, channelAxis: nil, shape: [9, 9], channels: [keyed])
        for stats in [exact, float] {
            let v1 = Self.v1Bytes(stats)
            #expect(try ImageStatistics(parsing: v1, name: "old/.tessera-stats.bin") == stats)
            // Rewritten, it becomes version 2 and reads the same.
            #expect(try Self.roundTrip(ImageStatistics(parsing: v1, name: "old")) == stats)
            for damaged in [Array(v1.dropLast(8)), Array(v1.prefix(40)), v1.enumerated().map { $0 == 50 ? $1 ^ 4 : $1 }] {
                #expect(throws: ImageStatisticsError.self) { try ImageStatistics(parsing: damaged, name: "old/.tessera-stats.bin") }
            }
        }
    }
}
