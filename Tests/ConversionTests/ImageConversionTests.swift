@testable import Conversion
import Foundation
import ImageSources
import NGFF
import Pyramid
import Storage
import Testing
import ZarrCore

/// An image held in memory, so the pyramid writer can be tested without files.
final class MemoryImage: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    let pixels: NDBuffer

    init(axes: [String], shape: [Int], seed: Int = 3) {
        let count = shape.reduce(1, *)
        var state = UInt64(seed)
        let values: [UInt16] = (0..<count).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt16(truncatingIfNeeded: (state >> 33) % 5000 + UInt64(i % 97) * 300)
        }
        pixels = NDBuffer(dataType: .uint16, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
        description = ImageDescription(name: "memory", axes: axes.map { ImageAxis(name: $0) }, shape: shape, dataType: .uint16,
                                       readBlock: shape.map { _ in 1 })
    }

    func read(_ region: Region) throws -> NDBuffer { pixels.extract(region) }
}

@Suite struct ImageConversionTests {
    func convert(_ image: MemoryImage, into store: any Store, _ configure: (inout ConvertOptions) -> Void = { _ in }) throws -> ImageSummary {
        var options = ConvertOptions()
        options.jobs = 3
        configure(&options)
        return try ImageConversion(source: image, store: store, path: "", options: options, extraAttributes: [:],
                                   fixedWindows: nil, writeOmero: true, log: { _ in }).run()
    }

    /// Every level equals the kernel applied to the whole previous level: the streaming
    /// assembly (pieces, partial units, shards) must not change a pixel.
    func checkLevels(_ store: any Store, _ image: MemoryImage, method: DownsampleMethod = .mean) throws -> [[Int]] {
        guard case let .group(_, attributes) = try Node.open(store: store, path: "") else { throw ZarrError.nodeNotFound(path: "") }
        let levels = NGFFAttributes.levelAxes(attributes)
        var expected = image.pixels
        var shapes = [[Int]]()
        for (i, level) in levels.enumerated() {
            let array = try ZarrArray.open(store: store, path: level.path)
            let got = try array.readAll()
            #expect(got == expected, "level \(i)")
            shapes.append(got.shape)
            if i + 1 < levels.count {
                let next = try ZarrArray.open(store: store, path: levels[i + 1].path).metadata.shape
                expected = try downsample(expected, factors: zip(expected.shape, next).map { $0 == $1 ? 1 : 2 }, method: method)
            }
        }
        return shapes
    }

    @Test(arguments: [NGFFVersion.v05, .v04]) func oddSized3DImageBuildsEveryLevelExactly(version: NGFFVersion) throws {
        let image = MemoryImage(axes: ["c", "z", "y", "x"], shape: [2, 13, 70, 45])
        let store = MemoryStore()
        _ = try convert(image, into: store) {
            $0.ngff = version
            $0.chunks = [8]
            $0.shards = version == .v05 ? [16] : nil
        }
        let shapes = try checkLevels(store, image)
        #expect(shapes == [[2, 13, 70, 45], [2, 7, 35, 23], [2, 4, 18, 12], [2, 2, 9, 6], [2, 1, 5, 3]]) // until y, x ≤ 8
    }

    /// A tight memory budget reads shards in several blocks; shards are then assembled
    /// from inner chunks that arrive from different blocks and must come out the same.
    @Test func shardsSplitAcrossBlocksAreAssembledExactly() throws {
        let image = MemoryImage(axes: ["z", "y", "x"], shape: [40, 96, 100])
        let whole = MemoryStore(), split = MemoryStore()
        _ = try convert(image, into: whole) { $0.chunks = [8]; $0.shards = [32] }
        _ = try convert(image, into: split) { $0.chunks = [8]; $0.shards = [32]; $0.memoryLimit = 64 << 10 }
        let plan = try ImagePlan(image.description, options: { var o = ConvertOptions(); o.chunks = [8]; o.shards = [32]; o.memoryLimit = 64 << 10; o.jobs = 3; return o }())
        #expect(plan.blockShape == [8, 8, 32]) // a shard (32³) is read in 16 blocks
        _ = try checkLevels(split, image)
        for key in try whole.list(prefix: "").map(\.key) where !key.hasSuffix("zarr.json") {
            #expect(try split.get(key) == whole.get(key), "\(key)")
        }
    }

    @Test func resumeRedoesOnlyWhatIsMissing() throws {
        let image = MemoryImage(axes: ["y", "x"], shape: [300, 260])
        let store = MemoryStore()
        let first = try convert(image, into: store) { $0.chunks = [32]; $0.shards = [64] }
        let objects = try store.list(prefix: "0/c/").map(\.key)
        for key in objects.prefix(3) { try store.delete(key) }
        try store.delete("zarr.json")
        let second = try convert(image, into: store) { $0.chunks = [32]; $0.shards = [64]; $0.resume = true }
        #expect(second.written == 3)
        #expect(second.skipped == first.written - 3)
        _ = try checkLevels(store, image)
    }

    @Test func resumeRefusesDifferentSettings() throws {
        let image = MemoryImage(axes: ["y", "x"], shape: [100, 100])
        let store = MemoryStore()
        _ = try convert(image, into: store) { $0.chunks = [32] }
        #expect(throws: UsageError.self) { try convert(image, into: store) { $0.chunks = [16]; $0.resume = true } }
    }

    @Test func omeroWindowsArePercentilesOfLevelZero() throws {
        let image = MemoryImage(axes: ["y", "x"], shape: [50, 40])
        let store = MemoryStore()
        _ = try convert(image, into: store) { $0.chunks = [16] }
        guard case let .group(_, attributes) = try Node.open(store: store, path: "") else { return }
        let window = try #require(attributes["ome"]?["omero"]?["channels"]?.arrayValue?.first?["window"])
        let sorted = image.pixels.bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }.sorted()
        // numpy: np.percentile(np.arange(2000), [0.1, 99.9], method="inverted_cdf") == [1, 1998]
        // (99.9 / 100 is 0.9990000000000001 in doubles, so the index lands just past 1997).
        #expect(invertedCDFPosition(count: 2000, percentile: 0.1) == 1)
        #expect(invertedCDFPosition(count: 2000, percentile: 99.9) == 1998)
        #expect(window["start"]?.intValue == Int(sorted[1]))
        #expect(window["end"]?.intValue == Int(sorted[1998]))
        #expect(window["min"]?.intValue == Int(sorted.first!))
        #expect(window["max"]?.intValue == Int(sorted.last!))
    }

    @Test func blocksCoverTheImageOnceInMortonOrder() {
        let blocks = mortonOrderedBlocks(shape: [3, 100, 70], block: [2, 32, 32], axisNames: ["z", "y", "x"])
        let covered: Int = blocks.map(\.elementCount).reduce(0, +)
        #expect(covered == 21_000)
        #expect(blocks.count == 24)
        let firstOrigins: [[Int]] = blocks.prefix(3).map(\.origin)
        #expect(firstOrigins == [[0, 0, 0], [0, 0, 32], [0, 32, 0]])
    }
}
