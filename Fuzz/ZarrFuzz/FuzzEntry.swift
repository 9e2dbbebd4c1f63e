// libFuzzer entry over what Tessera reads from storage (issue 21): metadata documents,
// shard indexes and whole shards, and the bytes→bytes decoders; and over the one input
// parser written in Swift, the Gatan DM3/DM4 tag tree (issue 17). Built by scripts/fuzz.sh
// together with ZarrCore's sources (one module, so internals are reachable) and run by
// `make fuzz`. The first input byte picks the target; the rest is the stored object.
//
// A finding is a crash, a hang (libFuzzer's -timeout) or an allocation above
// -malloc_limit_mb: every one of these inputs must end in a value or a thrown error.

import Storage

/// Chunks of this spec are what every decoder is bounded by.
private let spec = ChunkSpec(shape: [16, 16], dataType: .uint16, fillValue: .zero(.uint16))

private let decoders: [any BytesToBytesCodec] = [
    ZstdCodec(), GzipCodec(level: 5, framing: .gzip), GzipCodec(level: 5, framing: .zlib),
    BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2), CRC32CCodec(),
]

private let shardings: [ShardingCodec] = [
    ShardingCodec(innerChunkShape: [4, 4], codecs: CodecPipeline(bytesToBytes: [ZstdCodec()])),
    ShardingCodec(innerChunkShape: [8, 8], codecs: CodecPipeline(bytesToBytes: [GzipCodec()]), indexLocation: .start),
    ShardingCodec(innerChunkShape: [16, 16], codecs: CodecPipeline(bytesToBytes: [BloscCodec(), CRC32CCodec()])),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let selector = data[0]
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    // 0xF0 and up: a Gatan DM3/DM4 file (issue 17), outside the 4-way split below so that
    // the earlier seeds keep their targets.
    if selector >= 0xF0 {
        fuzzDM(body)
        return 0
    }
    switch selector % 4 {
    case 0: fuzzMetadata(body)
    case 1: fuzzShard(body, sharding: shardings[Int(selector / 4) % shardings.count])
    case 2: _ = try? decoders[Int(selector / 4) % decoders.count].decode(body, maxDecodedSize: 512)
    default: fuzzStore(body)
    }
    return 0
}

/// A document as `zarr.json`, `.zarray` and `.zattrs`, through a store as `info` reads it.
private func fuzzMetadata(_ body: [UInt8]) {
    for name in ["zarr.json", ".zarray"] {
        let store = MemoryStore()
        try? store.set(name, body)
        if case let .array(m)? = try? Node.open(store: store, path: "") {
            // Whatever validated must have sizes that fit: these must not trap.
            _ = m.chunkCount
            _ = m.codecs.maxEncodedSize(m.chunkSpec)
            _ = ZarrArray(store: store, path: "", metadata: m, concurrency: 1).objectLimit
        }
    }
    _ = firstDuplicateKey(body)
}

/// A stored shard of a [16, 16] uint16 array: its index, then every inner chunk.
private func fuzzShard(_ body: [UInt8], sharding: ShardingCodec) {
    let grid = sharding.chunksPerShard(spec.shape)
    if let indexSize = sharding.indexByteCount(chunksPerShard: grid), body.count >= indexSize {
        _ = try? sharding.decodeIndex(Array(body[sharding.indexRange(shardSize: body.count, indexSize: indexSize)]),
                                      chunksPerShard: grid, shardSize: body.count)
    }
    _ = try? sharding.decode(body, spec: spec)
}

/// A stored object read through an array's region reads (the partial-shard path too).
private func fuzzStore(_ body: [UInt8]) {
    let store = MemoryStore()
    let m = ArrayMetadata(format: .v3, shape: [16, 16], chunkShape: [16, 16], dataType: .uint16,
                          codecs: CodecPipeline(arrayToBytes: shardings[0]))
    try? store.set("c/0/0", body)
    let a = ZarrArray(store: store, path: "", metadata: m, concurrency: 1)
    _ = try? a.read(Region(origin: [2, 3], shape: [5, 9]))
    _ = try? a.read(Region(shape: [16, 16]))
}

/// A whole DM file: the tag tree, then the image list checked against it (dimensions,
/// types, data sizes) — the pure-Swift part of Sources/ImageSources/DM.
private func fuzzDM(_ body: [UInt8]) {
    guard let document = try? DMParser.parse(DMMemoryBytes(data: body)) else { return }
    _ = try? DMImageList.images(in: document)
}
