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
