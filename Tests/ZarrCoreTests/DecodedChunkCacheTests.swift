import Foundation
import Storage
import Synchronization
import Testing
@testable import ZarrCore

@Suite struct DecodedChunkCacheTests {
    static func chunk(_ value: UInt8, bytes: Int = 100) -> NDBuffer {
        NDBuffer(dataType: .uint8, shape: [bytes], bytes: [UInt8](repeating: value, count: bytes))
    }

    @Test func keepsChunksUpToItsCapacityDroppingTheLeastRecentlyUsed() throws {
        let cache = DecodedChunkCache(capacity: 250)  // two 100-byte chunks
        _ = try cache.chunk("a") { Self.chunk(1) }
        _ = try cache.chunk("b") { Self.chunk(2) }
        _ = try cache.chunk("a") { Issue.record("a was dropped"); return nil }  // a is now the most recent
        _ = try cache.chunk("c") { Self.chunk(3) }  // drops b
        #expect(cache.decodes == 3)
        _ = try cache.chunk("a") { Issue.record("a was dropped"); return nil }
        let b = try cache.chunk("b") { Self.chunk(4) }
        #expect(b == Self.chunk(4))
        #expect(cache.decodes == 4)
    }

    @Test func capacityZeroKeepsNothingButCounts() throws {
        let cache = DecodedChunkCache(capacity: 0)
        _ = try cache.chunk("a") { Self.chunk(1) }
        _ = try cache.chunk("a") { Self.chunk(1) }
        #expect(cache.decodes == 2)
        #expect(try cache.chunk("gone") { nil } == nil)
        #expect(cache.decodes == 2)
    }

    @Test func aChunkBeingDecodedIsNotDecodedAgainByAnotherReader() throws {
        let cache = DecodedChunkCache(capacity: 1000)
        let calls = Atomic<Int>(0)
        try parallelFor(16, width: 8) { _ in
            let c = try cache.chunk("shared") {
                calls.add(1, ordering: .relaxed)
                usleep(20_000)
                return Self.chunk(7)
            }
            #expect(c == Self.chunk(7))
        }
        #expect(calls.load(ordering: .relaxed) == 1)
        #expect(cache.decodes == 1)
    }

    @Test func aFailedDecodeIsRethrownAndNotKept() throws {
        struct Broken: Error {}
        let cache = DecodedChunkCache(capacity: 1000)
        #expect(throws: Broken.self) { try cache.chunk("x") { throw Broken() } }
        #expect(try cache.chunk("x") { Self.chunk(1) } == Self.chunk(1))
        #expect(cache.decodes == 1)
    }

    /// A sharded array read in pieces smaller than its inner chunks decodes each inner
    /// chunk once through the cache, and gives the same pixels as without it.
    @Test func shardedReadsInSmallPiecesDecodeEachInnerChunkOnce() throws {
        let store = MemoryStore()
        let m = ArrayMetadata(format: .v3, shape: [8, 8], chunkShape: [8, 8], dataType: .uint16,
                              codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [4, 4], codecs: CodecPipeline())))
        let array = ZarrArray(store: store, path: "", metadata: m, concurrency: 1)
        let data = NDBuffer(dataType: .uint16, shape: [8, 8], bytes: (0..<128).map { UInt8($0 + 1) })
        try array.write(Region(shape: [8, 8]), data)
        let cache = DecodedChunkCache(capacity: 4 * 32)
        let cached = ZarrArray(store: store, path: "", metadata: m, concurrency: 1, decodedChunks: cache)
        for y in stride(from: 0, to: 8, by: 2) {
            for x in stride(from: 0, to: 8, by: 2) {
                let piece = Region(origin: [y, x], shape: [2, 2])
                #expect(try cached.read(piece) == array.read(piece))
            }
        }
        #expect(cache.decodes == 4)
    }
}
