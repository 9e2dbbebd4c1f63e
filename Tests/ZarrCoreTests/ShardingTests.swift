import Storage
import Testing
@testable import ZarrCore

@Suite struct ShardingTests {
    func sharded(_ location: ShardingCodec.IndexLocation, store: any Store = MemoryStore()) -> ZarrArray {
        let inner = CodecPipeline(bytesToBytes: [BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2)])
        let m = ArrayMetadata(format: .v3, shape: [10, 13], chunkShape: [8, 8], dataType: .uint16, fillValue: FillValue(bytes: [7, 0]),
                              codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [4, 4], codecs: inner, indexLocation: location)))
        return ZarrArray(store: store, path: "a", metadata: m, concurrency: 2)
    }

    func ramp(_ shape: [Int]) -> NDBuffer {
        let n = shape.reduce(1, *)
        return NDBuffer(dataType: .uint16, shape: shape, bytes: (0..<n).flatMap { [UInt8(truncatingIfNeeded: $0 * 3 + 1), UInt8(truncatingIfNeeded: $0 >> 5)] })
    }

    @Test(arguments: [ShardingCodec.IndexLocation.start, .end])
    func roundTripWithSparseInnerChunks(_ location: ShardingCodec.IndexLocation) throws {
        let store = MemoryStore()
        let a = sharded(location, store: store)
        // Leave rows 0..<4 at the fill value: those inner chunks must not be stored.
        let data = ramp([6, 13])
        try a.write(Region(origin: [4, 0], shape: [6, 13]), data)
        let all = try a.readAll()
        #expect(all.extract(Region(origin: [4, 0], shape: [6, 13])) == data)
        #expect(all.extract(Region(origin: [0, 0], shape: [4, 13])).isUniform(a.metadata.fillValue))
        // Shard (0,0): 4 inner chunks, the top two empty.
        let shard = try #require(try store.get("a/c/0/0"))
        let sharding = try #require(a.metadata.codecs.sharding)
        let indexSize = try #require(sharding.indexByteCount(chunksPerShard: [2, 2]))
        #expect(indexSize == 4 * 16 + 4)
        let entries = try sharding.decodeIndex(Array(shard[sharding.indexRange(shardSize: shard.count, indexSize: indexSize)]),
                                               chunksPerShard: [2, 2], shardSize: shard.count)
        #expect(entries[0] == nil && entries[1] == nil && entries[2] != nil && entries[3] != nil)
        // Partial reads fetch single inner chunks and must agree with the full read.
        for (o, s) in [([5, 3], [2, 2]), ([0, 0], [10, 13]), ([9, 12], [1, 1]), ([3, 7], [4, 5])] {
            let r = Region(origin: o, shape: s)
            #expect(try a.read(r) == all.extract(r), "region \(r)")
        }
    }

    @Test func indexOutOfBoundsIsAnError() throws {
        let store = MemoryStore()
        let a = sharded(.end, store: store)
        try a.write(Region(shape: [10, 13]), ramp([10, 13]))
        var shard = try #require(try store.get("a/c/0/0"))
        // Rewrite the first entry's offset to point past the end and fix the checksum.
        let sharding = a.metadata.codecs.sharding!
        let indexSize = sharding.indexByteCount(chunksPerShard: [2, 2])!
        let start = shard.count - indexSize
        var raw = Array(shard[start..<(shard.count - 4)])
        raw.replaceSubrange(0..<8, with: [0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0])
        shard.replaceSubrange(start..<shard.count, with: try CRC32CCodec().encode(raw))
        try store.set("a/c/0/0", shard)
        #expect {
            _ = try a.readAll()
        } throws: { e in
            "\(e)".contains("a/c/0/0") && "\(e)".contains("out of bounds")
        }
    }

    @Test func wholeShardWriteIsOneObject() throws {
        let store = MemoryStore()
        let a = sharded(.end, store: store)
        try a.writeChunk([0, 0], ramp([8, 8]))
        #expect(try store.list(prefix: "a/").map(\.key) == ["a/c/0/0"])
        #expect(try a.readChunk([0, 0]) == ramp([8, 8]))
    }

    @Test(arguments: [ShardingCodec.IndexLocation.start, .end])
    func parallelEncodingGivesTheSameBytes(_ location: ShardingCodec.IndexLocation) throws {
        let a = sharded(location)
        var shard = ramp([8, 8])
        for i in 0..<32 { shard.bytes[i] = 7; shard.bytes[i + 1] = 0 }  // one sparse inner chunk
        let sharding = try #require(a.metadata.codecs.sharding)
        let serial = try sharding.encode(shard, spec: a.metadata.chunkSpec, concurrency: 1)
        for width in [2, 3, 8] {
            #expect(try sharding.encode(shard, spec: a.metadata.chunkSpec, concurrency: width) == serial)
        }
        #expect(try sharding.decode(serial, spec: a.metadata.chunkSpec) == shard)
    }

    @Test func missingShardsAndInnerChunksReadAsFill() throws {
        let a = sharded(.end)
        let patch = ramp([2, 3])
        try a.write(Region(origin: [9, 10], shape: [1, 3]), patch.extract(Region(origin: [0, 0], shape: [1, 3])))
        var expected = NDBuffer(dataType: .uint16, shape: [10, 13], fill: a.metadata.fillValue)
        expected.paste(patch, from: [0, 0], to: [9, 10], size: [1, 3])
        #expect(try a.readAll() == expected)
        for r in [Region(origin: [1, 2], shape: [9, 11]), Region(origin: [8, 8], shape: [2, 5]), Region(origin: [0, 0], shape: [3, 3])] {
            #expect(try a.read(r) == expected.extract(r), "region \(r)")
        }
    }

    /// Inner chunks given in any order make the same shard as in order, index at the end
    /// or at the start.
    @Test(arguments: [ShardingCodec.IndexLocation.start, .end])
    func assemblyDoesNotDependOnOrder(_ location: ShardingCodec.IndexLocation) throws {
        let a = sharded(location)
        var shard = ramp([8, 8])
        for y in 0..<4 { for x in 0..<4 { shard.bytes[2 * (y * 8 + x)] = 7; shard.bytes[2 * (y * 8 + x) + 1] = 0 } }  // inner chunk 0: fill
        let sharding = try #require(a.metadata.codecs.sharding)
        let expected = try sharding.encode(shard, spec: a.metadata.chunkSpec, concurrency: 1)
        let inner = try (0..<4).map { i in
            try sharding.encodeInner(shard.extract(Region(origin: [i / 2 * 4, i % 2 * 4], shape: [4, 4])), spec: a.metadata.chunkSpec)
        }
        #expect(inner[0] == nil && inner[1] != nil)
        for order in [[3, 1, 0, 2], [2, 3, 1, 0], [1, 0, 3, 2]] {
            var assembly = ShardAssembly(codec: sharding, chunksPerShard: [2, 2])
            for i in order { assembly.add(inner[i], at: i) }
            #expect(assembly.received == 4 && !assembly.isAllFill)
            let bytes = try #require(try assembly.object())
            #expect(bytes == expected, "order \(order)")
            // The index is where the codec says, and points at the stored inner chunks.
            let indexSize = try #require(sharding.indexByteCount(chunksPerShard: [2, 2]))
            let entries = try sharding.decodeIndex(Array(bytes[sharding.indexRange(shardSize: bytes.count, indexSize: indexSize)]),
                                                   chunksPerShard: [2, 2], shardSize: bytes.count)
            #expect(entries[0] == nil)
            let first = try #require(entries[1])
            #expect(first.offset == (location == .start ? indexSize : 0))
            // Kept by the caller (appended to a spool in arrival order) instead of held:
            // streamed out, the same bytes, each kept chunk read back once, in C order.
            var spool = [UInt8]()
            var kept = ShardAssembly(codec: sharding, chunksPerShard: [2, 2])
            for i in order {
                kept.add(piece: inner[i].map { bytes -> ShardAssembly.Piece in
                    defer { spool += bytes }
                    return .kept(offset: spool.count, length: bytes.count)
                }, at: i)
            }
            #expect(kept.bytesInMemory == 0 && assembly.bytesInMemory == spool.count)
            var streamed = [UInt8](), reads = [Int]()
            let count = try kept.write(to: { streamed += $0 }, reading: { offset, length in
                reads.append(offset)
                return Array(spool[offset..<offset + length])
            })
            #expect(try streamed == expected && count == expected.count && kept.size() == expected.count)
            #expect(reads == [1, 2, 3].map { i in order.filter { inner[$0] != nil }.prefix { $0 != i }.reduce(0) { $0 + inner[$1]!.count } })
        }
        #expect(try sharding.decode(expected, spec: a.metadata.chunkSpec) == shard)
    }

    /// The one all-fill rule: a shard of nothing but fill value is not stored, and a shard
    /// stored at its key before (a resumed or rewritten output) is deleted, not left to be
    /// read in place of the fill value.
    @Test func anAllFillShardReplacesAStaleOneByNothing() throws {
        let store = MemoryStore()
        let a = sharded(.end, store: store)
        try a.writeChunk([0, 0], ramp([8, 8]))
        #expect(try store.get("a/c/0/0") != nil)
        let fill = NDBuffer(dataType: .uint16, shape: [8, 8], fill: a.metadata.fillValue)
        #expect(try a.writeChunk([0, 0], fill) == 0)
        #expect(try store.list(prefix: "a/").isEmpty)
        // The same rule through an assembly of all-fill inner chunks, as the converter builds.
        let sharding = try #require(a.metadata.codecs.sharding)
        try a.writeChunk([0, 0], ramp([8, 8]))
        var assembly = ShardAssembly(codec: sharding, chunksPerShard: [2, 2])
        for i in 0..<4 { assembly.add(nil, at: i) }
        #expect(assembly.isAllFill)
        #expect(try assembly.object() == nil)
        #expect(try a.storeObject("a/c/0/0", try assembly.object()) == 0)
        #expect(try store.list(prefix: "a/").isEmpty)
        #expect(try a.readAll() == NDBuffer(dataType: .uint16, shape: [10, 13], fill: a.metadata.fillValue))
        // An all-fill shard still encodes (an index of empty entries) when asked for bytes.
        #expect(try sharding.decode(try assembly.assembled(), spec: a.metadata.chunkSpec) == fill)
    }
}
