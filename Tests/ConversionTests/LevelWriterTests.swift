@testable import Conversion
import Storage
import Pyramid
import Synchronization
import Testing
import ZarrCore

/// The converter's shard writes follow ShardAssembly's all-fill rule, as the codec's do.
@Suite struct LevelWriterTests {
    func shardedLevel(_ store: MemoryStore) -> ZarrArray {
        let inner = CodecPipeline(bytesToBytes: [ZstdCodec(level: 3)])
        let m = ArrayMetadata(format: .v3, shape: [12, 16], chunkShape: [8, 8], dataType: .uint16, fillValue: FillValue(bytes: [0, 0]),
                              codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [4, 4], codecs: inner)))
        return ZarrArray(store: store, path: "0", metadata: m, concurrency: 1)
    }

    func write(_ pixels: NDBuffer, to array: ZarrArray, pieces: [Region]) throws -> LevelWriter.Summary? {
        let done = Mutex<LevelWriter.Summary?>(nil)
        let writer = LevelWriter(index: 0, array: array, next: nil, factors: [2, 2], method: .mean, existing: []) { _, s in
            done.withLock { $0 = s }
        }
        for r in pieces { try writer.receive(pixels.extract(r), at: r) }
        return done.withLock { $0 }
    }

    @Test func anAllFillShardDeletesAStaleOneAndOthersMatchTheCodec() throws {
        let store = MemoryStore()
        let array = shardedLevel(store)
        // Stale shards from an earlier run under every key.
        for y in 0..<2 { for x in 0..<2 { try store.set("0/c/\(y)/\(x)", [1, 2, 3]) } }
        // Pixels only in shard (1, 1); the others are all fill value.
        var pixels = NDBuffer(dataType: .uint16, shape: [12, 16], fill: array.metadata.fillValue)
        for y in 8..<12 { for x in 8..<16 { pixels.bytes[2 * (y * 16 + x)] = UInt8(truncatingIfNeeded: y * 16 + x) } }
        // Pieces in an order that completes inner chunks out of C order.
        let pieces = [Region(origin: [6, 8], shape: [6, 8]), Region(origin: [0, 8], shape: [6, 8]),
                      Region(origin: [6, 0], shape: [6, 8]), Region(origin: [0, 0], shape: [6, 8])]
        let summary = try #require(try write(pixels, to: array, pieces: pieces))
        #expect(summary.written == 1)
        #expect(try store.list(prefix: "0/").map(\.key) == ["0/c/1/1"])
        // The same bytes the codec path writes for that shard.
        let reference = shardedLevel(MemoryStore())
        try reference.write(Region(shape: [12, 16]), pixels)
        #expect(try store.get("0/c/1/1") == reference.store.get("0/c/1/1"))
        #expect(try array.readAll() == pixels)
    }
}

/// Shards written from spooled inner chunks: the bytes do not depend on the order (or
/// the threads) in which pieces arrive and inner chunks complete — each is the codec's
/// own shard, object for object — and a shard in progress holds no chunk in memory.
@Suite struct SpooledShardTests {
    func level(_ store: MemoryStore, _ location: ShardingCodec.IndexLocation) -> ZarrArray {
        let inner = CodecPipeline(bytesToBytes: [ZstdCodec(level: 3)])
        let sharding = ShardingCodec(innerChunkShape: [4, 4], codecs: inner, indexLocation: location)
        let m = ArrayMetadata(format: .v3, shape: [20, 27], chunkShape: [8, 12], dataType: .uint16, fillValue: FillValue(bytes: [0, 0]),
                              codecs: CodecPipeline(arrayToBytes: sharding))
        return ZarrArray(store: store, path: "0", metadata: m, concurrency: 1)
    }

    /// Noise with a fill-valued band, so some inner chunks are not stored.
    func pixels() -> NDBuffer {
        var state: UInt64 = 12345
        var p = NDBuffer(dataType: .uint16, shape: [20, 27], fill: FillValue(bytes: [0, 0]))
        for y in 0..<20 where !(4..<8).contains(y) {
            for x in 0..<27 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                p.bytes[2 * (y * 27 + x)] = UInt8(truncatingIfNeeded: state >> 33)
                p.bytes[2 * (y * 27 + x) + 1] = UInt8(truncatingIfNeeded: state >> 41) & 7
            }
        }
        return p
    }

    /// Pieces of 3x5 (not aligned to inner chunks, so most units are pasted together
    /// from several pieces), in an order shuffled by `seed`.
    func pieces(seed: UInt64) -> [Region] {
        var all = [Region]()
        for y in stride(from: 0, to: 20, by: 3) {
            for x in stride(from: 0, to: 27, by: 5) {
                all.append(Region(origin: [y, x], shape: [min(3, 20 - y), min(5, 27 - x)]))
            }
        }
        var rng = seed
        for i in stride(from: all.count - 1, to: 0, by: -1) {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            all.swapAt(i, Int((rng >> 33) % UInt64(i + 1)))
        }
        return all
    }

    @Test(arguments: [ShardingCodec.IndexLocation.end, .start])
    func shuffledCompletionOrdersWriteTheCodecsBytes(_ location: ShardingCodec.IndexLocation) throws {
        let data = pixels()
        let reference = MemoryStore()
        try level(reference, location).write(Region(shape: [20, 27]), data)
        let expected = try reference.list(prefix: "0/").map(\.key).sorted()
        #expect(expected.count == 9)
        for seed in [1, 2, 3, 4] as [UInt64] {
            let store = MemoryStore()
            let array = level(store, location)
            let done = Mutex<LevelWriter.Summary?>(nil)
            let writer = LevelWriter(index: 0, array: array, next: nil, factors: [2, 2], method: .mean, existing: []) { _, s in
                done.withLock { $0 = s }
            }
            let order = pieces(seed: seed)
            // Four threads: inner chunks of one shard complete concurrently, in no fixed order.
            try parallelFor(order.count, width: 4) { i in try writer.receive(data.extract(order[i]), at: order[i]) }
            #expect(done.withLock { $0 }?.written == 9)
            #expect(try store.list(prefix: "0/").map(\.key).sorted() == expected, "seed \(seed)")
            for key in expected { #expect(try store.get(key) == reference.get(key), "seed \(seed): \(key)") }
            #expect(writer.shardsInProgress.count == 0)
        }
    }

    @Test func aShardInProgressHoldsItsChunksInItsSpoolNotInMemory() throws {
        let data = pixels()
        let array = level(MemoryStore(), .end)
        let writer = LevelWriter(index: 0, array: array, next: nil, factors: [2, 2], method: .mean, existing: []) { _, _ in }
        // The top-left 8x8 of shard (0, 0) (its other inner chunks still to come), and all
        // of shard (1, 1), which completes and goes.
        for r in [Region(origin: [0, 0], shape: [8, 8]), Region(origin: [8, 12], shape: [8, 12])] {
            try writer.receive(data.extract(r), at: r)
        }
        let held = writer.shardsInProgress
        #expect(held.count == 1)
        #expect(held.inMemory == 0)
        #expect(held.spooled > 0)
        #expect(try array.store.get("0/c/1/1") != nil && array.store.get("0/c/0/0") == nil)
    }
}

/// A shard that one received piece covers (level 0's blocks are whole shards) is written
/// from memory, never spooled, with the codec's bytes; shards the piece only touches still
/// wait in a spool.
@Suite struct ShardsInsideAPieceTests {
    @Test func wholeShardsInAPieceSkipTheSpoolAndWriteTheCodecsBytes() throws {
        let spooled = SpooledShardTests()
        let data = spooled.pixels()
        let reference = MemoryStore()
        try spooled.level(reference, .end).write(Region(shape: [20, 27]), data)
        let store = MemoryStore()
        let writer = LevelWriter(index: 0, array: spooled.level(store, .end), next: nil, factors: [2, 2], method: .mean, existing: []) { _, _ in }
        // Shards are 8x12 in a 20x27 array (rows 0, 8, 16; columns 0, 12, 24; the last row
        // and column clipped by the array). Each piece holds some shards whole and touches
        // others: (0, 0) and (0, 1) whole, (1, 0) and (1, 1) touched; then the corner (2, 2);
        // (0, 2) whole, (1, 2) touched; (2, 0) and (2, 1) whole, (1, 0) and (1, 1) finished;
        // (1, 2) finished.
        let pieces = [Region(origin: [0, 0], shape: [10, 24]), Region(origin: [16, 24], shape: [4, 3]),
                      Region(origin: [0, 24], shape: [10, 3]), Region(origin: [10, 0], shape: [10, 24]),
                      Region(origin: [10, 24], shape: [6, 3])]
        for (i, r) in pieces.enumerated() {
            try writer.receive(data.extract(r), at: r, width: 4)
            if i == 0 { // two shards written, none spooled (the touched ones have no whole inner chunk yet)
                #expect(writer.spoolsMade == 0)
                #expect(try store.list(prefix: "0/").map(\.key).sorted() == ["0/c/0/0", "0/c/0/1"])
            }
        }
        #expect(writer.spoolsMade == 3) // (1, 0), (1, 1), (1, 2): the shards no piece held whole
        #expect(writer.shardsInProgress.count == 0)
        let keys = try reference.list(prefix: "0/").map(\.key).sorted()
        #expect(keys.count == 9)
        #expect(try store.list(prefix: "0/").map(\.key).sorted() == keys)
        for key in keys { #expect(try store.get(key) == reference.get(key), "\(key)") }
    }
}
