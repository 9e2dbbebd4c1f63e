import ImageSources
import NGFF
import Pyramid
import ZarrCore

/// Everything about one image's output decided before a byte is written: levels, their
/// array metadata, the NGFF datasets, and how level 0 is cut into blocks for reading.
struct ImagePlan {
    let description: ImageDescription
    let levels: [PyramidLevel]
    let arrays: [ArrayMetadata]
    let datasets: [NGFFDataset]
    /// Level-0 read unit: whole storage objects (chunks or shards), widened to whole
    /// source tiles/strips so nothing is decoded twice.
    let blockShape: [Int]

    /// `storedLevels`: shapes of levels the source already has (used instead of planning).
    init(_ d: ImageDescription, options: ConvertOptions, storedLevels: [[Int]] = []) throws {
        description = d
        let names = d.axisNames
        let rank = names.count
        let spatial = names.map { ["z", "y", "x"].contains($0) }
        let volumetric = d.axisIndex("z").map { d.shape[$0] > 1 } ?? false

        var chunk: [Int]
        if let requested = options.chunks {
            chunk = try Self.perAxis(requested, names: names, what: "--chunks")
        } else {
            chunk = spatial.map { $0 ? (volumetric ? 64 : 256) : 1 }
            if !volumetric, let z = d.axisIndex("z") { chunk[z] = 1 }
            // 8-bit RGB: the three channels of a pixel in one chunk (and so one shard).
            if ConvertOptions.isEightBitRGB(d), let c = d.axisIndex("c") { chunk[c] = 3 }
        }
        var levels = PyramidPlanner.plan(shape: d.shape, axisNames: names, spacing: d.spacing, chunk: chunk, z: options.zDownsampling)
        if !storedLevels.isEmpty {
            levels = [levels[0]] + storedLevels.map { shape in
                let cumulative: [Int] = zip(d.shape, shape).map { full, reduced in
                    let ratio = Double(full) / Double(Swift.max(reduced, 1))
                    return Swift.max(1, Int(ratio.rounded()))
                }
                return PyramidLevel(shape: shape, factors: cumulative, cumulative: cumulative)
            }
        }
        self.levels = levels

        var shardFactor: [Int]? = nil
        let sharded = options.ngff == .v05 && options.shards != [0]
        if sharded {
            if let requested = options.shards {
                let shards = try Self.perAxis(requested, names: names, what: "--shards")
                guard zip(shards, chunk).allSatisfy({ $0 % $1 == 0 }) else {
                    throw UsageError("--shards \(shards.map(String.init).joined(separator: ",")) must be a multiple of the chunk shape \(chunk.map(String.init).joined(separator: ","))")
                }
                shardFactor = zip(shards, chunk).map { $0 / $1 }
            } else {
                shardFactor = spatial.map { $0 ? (volumetric ? 4 : 8) : 1 }
                if !volumetric, let z = d.axisIndex("z") { shardFactor![z] = 1 }
            }
        } else if options.shards != nil, options.shards != [0] {
            throw UsageError("--shards needs NGFF 0.5 (Zarr v3); 0.4 has no sharding")
        }

        let format = options.ngff.zarrFormat
        var arrays = [ArrayMetadata]()
        for (index, level) in levels.enumerated() {
            let levelChunk = zip(chunk, level.shape).map { max(1, min($0, $1)) }
            // Blocks of the next level come from 2×-blocks of this one: a chunk on an axis
            // that is halved must start at an even index, unless it is the only chunk.
            if index + 1 < levels.count, storedLevels.isEmpty {
                for a in 0..<rank where levels[index + 1].factors[a] == 2 && levelChunk[a] % 2 == 1 && levelChunk[a] < level.shape[a] {
                    throw UsageError("chunk size \(levelChunk[a]) on axis \(names[a]) must be even to build a 2× pyramid")
                }
            }
            let compression = options.codec(for: d)
            if let refusal = compression.choice.refusal(format: format) { throw UsageError(refusal) }
            let compressor = try compression.choice.codec(level: compression.level, dataType: d.dataType, chunkShape: levelChunk)
            var pipeline = CodecPipeline(arrayToBytes: BytesCodec(endian: .little), bytesToBytes: compressor.map { [$0] } ?? [])
            var outer = levelChunk
            if let shardFactor {
                let rounded = zip(level.shape, levelChunk).map { ($0 + $1 - 1) / $1 * $1 }
                outer = zip(zip(levelChunk, shardFactor).map { $0 * $1 }, rounded).map { min($0, $1) }
                pipeline = CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: levelChunk, codecs: pipeline))
            }
            let m = ArrayMetadata(format: format, shape: level.shape, chunkShape: outer, dataType: d.dataType, fillValue: nil,
                                  codecs: pipeline, chunkKeyEncoding: format == .v3 ? .v3Default : .v2Nested,
                                  dimensionNames: format == .v3 ? names : nil, attributes: [:])
            try m.validate(key: "level \(index)")
            if format == .v2 { _ = try m.v2Metadata(key: "level \(index)") }
            arrays.append(m)
        }
        self.arrays = arrays

        let centred = options.downsample != .nearest
        datasets = levels.enumerated().map { index, level in
            NGFFDataset(path: String(index),
                        scale: (0..<rank).map { d.spacing[$0] * Double(level.cumulative[$0]) },
                        translation: (0..<rank).map { d.origin[$0] + (centred ? Double(level.cumulative[$0] - 1) / 2 * d.spacing[$0] : 0) })
        }
        // Blocks stay within a slice of the memory budget (at most 16 MiB): a deep shard is
        // read in several blocks and assembled from its encoded inner chunks instead.
        let limit = Swift.min(16 << 20, options.memoryLimit / (4 * Swift.max(1, options.jobs)))
        blockShape = Self.block(object: arrays[0].chunkShape, unit: arrays[0].codecs.sharding?.innerChunkShape ?? arrays[0].chunkShape,
                                source: d.readBlock, shape: d.shape, elementSize: d.dataType.size, limit: limit)
    }

    /// `--chunks`/`--shards`: one value for every spatial axis (t and c get 1), or a list
    /// right-aligned to the axes.
    static func perAxis(_ values: [Int], names: [String], what: String) throws -> [Int] {
        guard values.allSatisfy({ $0 > 0 }) else { throw UsageError("\(what) must be positive integers") }
        if values.count == 1 { return names.map { ["z", "y", "x"].contains($0) ? values[0] : 1 } }
        guard values.count <= names.count else {
            throw UsageError("\(what) has \(values.count) values for an image with axes \(names.joined(separator: ","))")
        }
        return Array(repeating: 1, count: names.count - values.count) + values
    }

    /// Level-0 blocks: whole storage objects, widened to whole source read units (tiles,
    /// strips); split along the slowest axes while larger than `limit` (never below one
    /// unit — a chunk or inner chunk — nor cutting a source read unit); grown to a few MiB
    /// when small, so per-block overheads stay small.
    static func block(object: [Int], unit: [Int], source: [Int], shape: [Int], elementSize: Int, limit: Int = 16 << 20) -> [Int] {
        var block = object
        let rounded = zip(shape, object).map { ($0 + $1 - 1) / $1 * $1 }
        for d in block.indices where source[d] > block[d] {
            block[d] = min(lcm(block[d], source[d]), rounded[d])
        }
        var bytes = block.reduce(elementSize, *)
        var axis = 0
        while bytes > limit, axis < block.count {
            let half = block[axis] / 2, read = min(source[axis], shape[axis])
            if half >= unit[axis], half % unit[axis] == 0, half % max(1, read) == 0 {
                block[axis] = half
                bytes /= 2
            } else {
                axis += 1
            }
        }
        var d = block.count - 2
        while bytes < min(4 << 20, limit / 2), d >= 0, d < block.count {
            if block[d] * 2 <= rounded[d] {
                block[d] *= 2
                bytes *= 2
            } else if d == block.count - 2 {
                d = block.count - 1
            } else {
                break
            }
        }
        return block
    }

    static func lcm(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return a / x * b
    }
}
