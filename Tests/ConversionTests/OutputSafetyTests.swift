@testable import Conversion
import Foundation
import Testing
import ZarrCore

/// `OverwriteGuard` (what --overwrite may delete) and `KeptObjects` (what --resume may keep).
@Suite struct OutputSafetyTests {
    func store(_ keys: [String]) throws -> MemoryStore {
        let s = MemoryStore()
        for k in keys { try s.set(k, Array("x".utf8)) }
        return s
    }

    func refusal(_ keys: [String], inputs: [String] = []) throws -> String? {
        do {
            try OverwriteGuard.check(try store(keys), location: "out", inputs: inputs)
            return nil
        } catch let e as UsageError {
            return e.description
        }
    }

    @Test func zarrHierarchiesAndMarkedOutputsMayBeCleared() throws {
        #expect(try refusal(["zarr.json", "0/zarr.json", "0/c/0/1", "OME/zarr.json", "OME/METADATA.ome.xml"]) == nil)
        #expect(try refusal([".zgroup", ".zattrs", "0/.zarray", "0/1.2", "0/1/2"]) == nil)
        // An interrupted conversion: levels, no root metadata yet, but Tessera's mark.
        #expect(try refusal([OutputMark.key, "0/zarr.json", "0/c/3/4"]) == nil)
        #expect(try refusal([]) == nil)
    }

    @Test func anythingElseIsRefusedNamingWhatIsThere() throws {
        let plain = try refusal(["x.tif", "notes.txt", "sub/d.txt"])
        #expect(plain?.contains("neither a Zarr hierarchy") == true)
        #expect(plain?.contains("notes.txt") == true && plain?.contains("sub/d.txt") == true)
        // Chunk-like keys alone are not a hierarchy: no root metadata, no mark.
        #expect(try refusal(["0/c/0/0"]) != nil)
        let mixed = try refusal(["zarr.json", "0/zarr.json", "0/c/0/0", "0/notes.txt", ".DS_Store"])
        #expect(mixed?.contains("0/notes.txt") == true && mixed?.contains(".DS_Store") == true)
    }

    @Test func anOutputHoldingAnInputIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overwrite-guard-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir + "/0", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/0/7", contents: Data([1]))
        #expect(OverwriteGuard.locationContains(dir, dir + "/0/7"))
        #expect(OverwriteGuard.locationContains(dir, dir + "/0/7:/entry/data"))
        #expect(OverwriteGuard.locationContains(dir, dir))
        #expect(!OverwriteGuard.locationContains(dir + "/0", dir))
        #expect(!OverwriteGuard.locationContains(dir, dir + "x/file.tif"))
        #expect(OverwriteGuard.locationContains("s3://b/p", "s3://b/p/q"))
        #expect(OverwriteGuard.locationContains("s3://b/p/", "s3://b/p"))
        #expect(!OverwriteGuard.locationContains("s3://b/p", "s3://b/pq"))
        #expect(!OverwriteGuard.locationContains("s3://b/p", dir))
        let message = try refusal(["zarr.json"], inputs: ["s3://out/in.zarr"])
        #expect(message == nil)
    }

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
}
