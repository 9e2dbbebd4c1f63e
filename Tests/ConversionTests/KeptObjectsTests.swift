@testable import Conversion
import Storage
import Foundation
import Testing
import ZarrCore

/// `KeptObjects`: what `--resume` may keep of an earlier run's chunks and shards.
@Suite struct KeptObjectsTests {
    func shardedLevel(_ store: any Store) throws -> ZarrArray {
        let inner = CodecPipeline(arrayToBytes: BytesCodec(endian: .little), bytesToBytes: [ZstdCodec(level: 3)])
        let m = ArrayMetadata(format: .v3, shape: [32, 32], chunkShape: [16, 16], dataType: .uint16,
                              codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [8, 8], codecs: inner)),
                              chunkKeyEncoding: .v3Default)
        let a = ZarrArray(store: store, path: "0", metadata: m, concurrency: 1)
        try a.write(Region(shape: [32, 32]), NDBuffer(dataType: .uint16, shape: [32, 32], bytes: (0..<2048).map { UInt8($0 % 253) }))
        try a.writeMetadata()
        return a
    }

    @Test func damagedShardsAreNotKept() throws {
        let s = MemoryStore()
        let a = try shardedLevel(s)
        let cut = a.chunkKey([1, 0])
        let whole = try #require(try s.get(cut))
        try s.set(cut, Array(whole.prefix(whole.count / 2)))
        var flipped = try #require(try s.get(a.chunkKey([1, 1])))
        flipped[flipped.count - 2] ^= 0xFF  // inside the index's crc32c
        try s.set(a.chunkKey([1, 1]), flipped)
        let listed = try s.list(prefix: "0/").filter { !$0.key.hasSuffix("zarr.json") }
        let check = try KeptObjects(listed: listed, array: a, jobs: 2)
        #expect(check.kept == [a.chunkKey([0, 0]), a.chunkKey([0, 1])])
        #expect(check.damaged == [a.chunkKey([1, 0]), a.chunkKey([1, 1])].sorted())
        #expect(try s.get(cut) == nil, "a damaged object is deleted so it is redone")
    }

    @Test func damagedChunksAreNotKept() throws {
        let s = MemoryStore()
        let m = ArrayMetadata(format: .v2, shape: [16, 16], chunkShape: [8, 8], dataType: .uint16,
                              codecs: CodecPipeline(bytesToBytes: [ZstdCodec(level: 3)]),
                              chunkKeyEncoding: ChunkKeyEncoding(kind: .v2, separator: "/"))
        let a = ZarrArray(store: s, path: "0", metadata: m, concurrency: 1)
        try a.write(Region(shape: [16, 16]), NDBuffer(dataType: .uint16, shape: [16, 16], bytes: (0..<512).map { UInt8($0 % 251) }))
        let key = a.chunkKey([0, 1])
        try s.set(key, Array(try #require(try s.get(key)).prefix(5)))
        let check = try KeptObjects(listed: try s.list(prefix: "0/"), array: a, jobs: 1)
        #expect(check.damaged == [key])
        #expect(check.kept.count == 3)
    }

    /// The paged walk `--resume` uses decides as one whole listing does: metadata left
    /// out, damaged chunks deleted, chunks the manifest records as all fill kept as absent.
    @Test func pagedListingKeepsWhatAWholeListingKeeps() throws {
        func level() throws -> (MemoryStore, ZarrArray) {
            let s = MemoryStore()
            let m = ArrayMetadata(format: .v2, shape: [16, 16], chunkShape: [8, 8], dataType: .uint16,
                                  codecs: CodecPipeline(bytesToBytes: [ZstdCodec(level: 3)]),
                                  chunkKeyEncoding: ChunkKeyEncoding(kind: .v2, separator: "/"))
            let a = ZarrArray(store: s, path: "0", metadata: m, concurrency: 1)
            try a.write(Region(shape: [16, 8]), NDBuffer(dataType: .uint16, shape: [16, 8], bytes: (0..<256).map { UInt8($0 % 251 + 1) }))
            try a.writeMetadata()
            return (s, a)
        }
        func manifest(_ s: MemoryStore, _ a: ZarrArray) throws -> [String: Int] {
            // Written and read back through the Store API, as on S3: [0,0] recorded right
            // (after a wrong line, which the later batch overrides), [1,0] recorded with a
            // wrong size, [0,1] recorded all fill. The batches sit under the level's prefix,
            // so the listing walked below holds them too.
            let writer = ObjectManifest(store: s, levelPath: "0")
            try writer.record(a.chunkKey([0, 0]), size: 3)
            try writer.record(a.chunkKey([1, 0]), size: 1)
            try writer.flush()
            try writer.record(a.chunkKey([0, 0]), size: try #require(try s.size(a.chunkKey([0, 0]))))
            try writer.record(a.chunkKey([0, 1]), size: 0)
            try writer.flush()
            #expect(try s.list(prefix: "0/").filter { ObjectManifest.isBatchKey($0.key) }.count == 2)
            return try #require(try ObjectManifest.read(store: s, levelPath: "0"))
        }
        let (s1, a1) = try level(), (s2, a2) = try level()
        let whole = try KeptObjects(listed: try s1.list(prefix: "0/").filter { !$0.key.hasSuffix(".zarray") }, array: a1, jobs: 2,
                                    manifest: try manifest(s1, a1))
        let paged = try KeptObjects(listingPagesOf: a2, jobs: 2, manifest: try manifest(s2, a2))
        #expect(paged.kept == whole.kept && paged.damaged == whole.damaged)
        #expect(paged.kept == [a2.chunkKey([0, 0]), a2.chunkKey([0, 1])])
        #expect(paged.damaged == [a2.chunkKey([1, 0])])
        #expect(try s2.get(a2.chunkKey([1, 0])) == nil, "a damaged chunk is deleted so it is redone")
    }

    /// The manifest's batches are plain objects: none at all reads as "no manifest" (so
    /// chunks are decoded), and removal deletes the batches and nothing else of the level.
    @Test func manifestBatchesAreReadInOrderAndRemovedAlone() throws {
        let s = MemoryStore()
        #expect(try ObjectManifest.read(store: s, levelPath: "0") == nil)
        try s.set("0/0/0", [1, 2, 3])
        try s.set("0/\(ObjectManifest.name)/notes.txt", Array("0/0/0 9\n".utf8))  // not Tessera's: ignored, kept
        let writer = ObjectManifest(store: s, levelPath: "0")
        for i in 0..<(ObjectManifest.batchLines + 1) { try writer.record("0/9/\(i)", size: 5) }
        try writer.record("0/0/0", size: 3)
        try writer.flush()
        let batches = try s.list(prefix: "0/").map(\.key).filter(ObjectManifest.isBatchKey)
        #expect(batches.count == 2, "a full batch is written as soon as it has batchLines lines")
        let read = try #require(try ObjectManifest.read(store: s, levelPath: "0"))
        #expect(read["0/0/0"] == 3 && read.count == ObjectManifest.batchLines + 2)
        try ObjectManifest.remove(store: s, levelPath: "0")
        let left = try s.list(prefix: "0/").map(\.key).sorted()
        #expect(left == ["0/\(ObjectManifest.name)/notes.txt", "0/0/0"], "\(left)")
    }
}
