import NGFF
import Storage
import Testing
import ZarrCore

/// `.tessera-stats.bin`: what is written reads back the same; anything damaged is refused
/// with a message naming the file, never read as other numbers.
@Suite struct ImageStatisticsTests {
    func sample() -> ImageStatistics {
        var bins = [Int](repeating: 0, count: 65536)
        bins[3] = 5
        bins[40000] = 2
        bins[65535] = 1
        var second = [Int](repeating: 0, count: 65536)
        second[7] = 4
        return ImageStatistics(kind: .exact, dataType: .uint16, channelAxis: 1, shape: [3, 2, 10, 20], channels: [
            .init(count: 8, nanCount: 0, min: 3, max: 65535, bins: bins),
            .init(count: 4, nanCount: 0, min: 7, max: 7, bins: second),
        ])
    }

    @Test func roundTripsThroughAStore() throws {
        let store = MemoryStore()
        let stats = sample()
        try stats.write(store: store, imagePath: "a/img")
        #expect(try store.get("a/img/.tessera-stats.bin") != nil)
        #expect(try ImageStatistics.read(store: store, imagePath: "a/img") == stats)
        #expect(try ImageStatistics.read(store: store, imagePath: "other") == nil)
    }

    @Test func keyedRoundTripKeepsExtremesAndNaNs() throws {
        var bins = [Int](repeating: 0, count: 65536)
        bins[ImageStatistics.key(-2.5)] += 1
        bins[ImageStatistics.key(1e-3)] += 2
        let stats = ImageStatistics(kind: .keyed, dataType: .float32, channelAxis: nil, shape: [10, 10],
                                    channels: [.init(count: 3, nanCount: 97, min: -2.5, max: 1e-3, bins: bins)])
        #expect(try ImageStatistics(parsing: stats.bytes, name: "f") == stats)
    }

    @Test func keysKeepTheOrderOfValues() {
        let values: [Float] = [-.infinity, -3e38, -1, -1e-30, -0.0, 0, 1e-30, 0.5, 1, 1.0078125, 3e38, .infinity]
        for (a, b) in zip(values, values.dropFirst()) { #expect(ImageStatistics.key(a) <= ImageStatistics.key(b)) }
        // A bin's lower edge is at most 2^-7 of the value below it (7 mantissa bits kept).
        for v: Float in [1, 1.5, 3.14159, 1000.25, 7e-5, -2.75, -1000.5] {
            let edge = ImageStatistics.lowerEdge(ImageStatistics.key(v))
            #expect(edge <= Double(v))
            #expect(Double(v) - edge <= abs(Double(v)) / 128)
        }
    }

    @Test func damagedFilesAreRefusedNamingTheFile() throws {
        let good = sample().bytes
        var wrongCount = sample()
        wrongCount.channels[0].count = 9  // bins no longer add up; checksum is recomputed
        let cases: [(String, [UInt8])] = [
            ("empty", []), ("magic", Array("XXXX".utf8) + good.dropFirst(4)), ("unknown version", Array("TSS3".utf8) + good.dropFirst(4)),
            ("counts", wrongCount.bytes), ("trailing bytes", good + [0]),
        ]
        for (what, bytes) in cases { expectRefused(bytes, what) }
        let store = MemoryStore()
        try store.set("img/.tessera-stats.bin", Array(good.prefix(good.count / 2)))
        #expect(throws: ImageStatisticsError.self) { try ImageStatistics.read(store: store, imagePath: "img") }
    }

    /// Every truncation and every single flipped bit of a version 2 file is refused (the
    /// payload length and CRC-32C in its header), naming the file.
    @Test func everyTruncationAndBitFlipIsRefused() {
        let good = sample().bytes
        #expect(good.starts(with: Array("TSS2".utf8)))
        for n in 0..<good.count { expectRefused(Array(good.prefix(n)), "first \(n) bytes") }
        for i in 0..<good.count {
            for bit in 0..<8 {
                var flipped = good
                flipped[i] ^= 1 << UInt8(bit)
                expectRefused(flipped, "byte \(i) bit \(bit)")
            }
        }
    }

    func expectRefused(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let parsed = try ImageStatistics(parsing: bytes, name: "img/.tessera-stats.bin")
            Issue.record("\(what): read as \(parsed.channels.map(\.count))", sourceLocation: sourceLocation)
        } catch let error as ImageStatisticsError {
            #expect("\(error)".contains("img/.tessera-stats.bin"), "\(what): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        }
    }
}
