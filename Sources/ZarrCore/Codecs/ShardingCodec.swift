import Storage
import Synchronization

/// `sharding_indexed`: one stored object (a shard) holds a grid of inner chunks, each
/// encoded with its own pipeline, plus an index of (offset, nbytes) pairs. Inner chunks
/// that are all fill value are not stored (both index fields 2^64−1), so a sparse shard
/// costs only its index.
public struct ShardingCodec: ArrayToBytesCodec {
    public enum IndexLocation: String, Sendable { case start, end }

    public var innerChunkShape: [Int]
    public var codecs: CodecPipeline
    public var indexCodecs: CodecPipeline
    public var indexLocation: IndexLocation

    /// The byte range of one inner chunk inside its shard.
    public struct Entry: Sendable, Equatable {
        public var offset: Int
        public var length: Int
    }

    public init(innerChunkShape: [Int], codecs: CodecPipeline, indexCodecs: CodecPipeline = .defaultShardIndex,
                indexLocation: IndexLocation = .end) {
        self.innerChunkShape = innerChunkShape
        self.codecs = codecs
        self.indexCodecs = indexCodecs
        self.indexLocation = indexLocation
    }

    public init(configuration c: JSONValue?, dataType: DataType, dimensions: Int, key: String) throws {
        guard let shape = c?["chunk_shape"]?.arrayValue?.compactMap(\.intValue), shape.count == dimensions, shape.allSatisfy({ $0 > 0 }) else {
            throw ZarrError.invalidMetadata(key: key, reason: "sharding_indexed needs a chunk_shape of \(dimensions) positive integers")
        }
        guard let inner = c?["codecs"]?.arrayValue else {
            throw ZarrError.invalidMetadata(key: key, reason: "sharding_indexed needs a codecs list")
        }
        let codecs = try CodecPipeline(v3: inner, dataType: dataType, dimensions: dimensions, key: key)
        let indexCodecs = try c?["index_codecs"]?.arrayValue.map {
            try CodecPipeline(v3: $0, dataType: .uint64, dimensions: dimensions + 1, key: key)
        } ?? .defaultShardIndex
        guard let where_ = IndexLocation(rawValue: c?["index_location"]?.stringValue ?? "end") else {
            throw ZarrError.invalidMetadata(key: key, reason: "index_location must be 'start' or 'end'")
        }
        self.init(innerChunkShape: shape, codecs: codecs, indexCodecs: indexCodecs, indexLocation: where_)
        guard indexByteCount(chunksPerShard: shape.map { _ in 1 }) != nil else {
            throw ZarrError.invalidMetadata(key: key, reason: "index_codecs must have a fixed encoded size (bytes, crc32c)")
        }
    }

    public var metadata: JSONValue {
        codecMetadata("sharding_indexed", [
            "chunk_shape": JSONValue(innerChunkShape),
            "codecs": .array(codecs.v3Metadata),
            "index_codecs": .array(indexCodecs.v3Metadata),
            "index_location": .string(indexLocation.rawValue),
        ])
    }

    public func fixedEncodedSize(_ spec: ChunkSpec) -> Int? { nil }

    /// Every inner chunk at its largest, plus the index.
    public func maxEncodedSize(_ spec: ChunkSpec) -> Int? {
        let grid = chunksPerShard(spec.shape)
        guard let count = checkedProduct(grid), let inner = maxInnerSize(spec), let index = indexByteCount(chunksPerShard: grid) else { return nil }
        let (chunks, overflow) = count.multipliedReportingOverflow(by: inner)
        return overflow ? nil : checkedSum([chunks, index])
    }

    /// The most bytes one stored inner chunk of a shard of `spec` can take.
    public func maxInnerSize(_ spec: ChunkSpec) -> Int? {
        codecs.maxEncodedSize(ChunkSpec(shape: innerChunkShape, dataType: spec.dataType, fillValue: spec.fillValue))
    }

    // MARK: geometry

    public func chunksPerShard(_ shardShape: [Int]) -> [Int] { zip(shardShape, innerChunkShape).map { $0 / $1 } }

    func indexSpec(_ chunksPerShard: [Int]) -> ChunkSpec {
        ChunkSpec(shape: chunksPerShard + [2], dataType: .uint64, fillValue: FillValue(bytes: [UInt8](repeating: 0xff, count: 8)))
    }

    /// Size of the encoded index for a shard with this grid of inner chunks.
    /// nil when it is not fixed, or too large to ever read (over `Limits.objectBytes`).
    public func indexByteCount(chunksPerShard: [Int]) -> Int? {
        guard let n = indexCodecs.fixedEncodedSize(indexSpec(chunksPerShard)), n <= Limits.objectBytes else { return nil }
        return n
    }

    func validateShape(_ shardShape: [Int]) throws {
        guard shardShape.count == innerChunkShape.count,
              zip(shardShape, innerChunkShape).allSatisfy({ $0 % $1 == 0 }) else {
            throw ZarrError.invalidMetadata(key: "", reason: "shard shape \(shardShape) is not a multiple of the inner chunk shape \(innerChunkShape)")
        }
    }

    // MARK: encode

    public func encode(_ shard: NDBuffer, spec: ChunkSpec) throws -> [UInt8] {
        try encode(shard, spec: spec, concurrency: 1)
    }

    /// Encodes a whole shard in one pass. With `concurrency` > 1 the inner chunks are
    /// compressed on that many threads (for arrays with fewer shards than cores); the
    /// shard is then assembled in inner-chunk order, so the bytes do not depend on it.
    public func encode(_ shard: NDBuffer, spec: ChunkSpec, concurrency: Int) throws -> [UInt8] {
        try assembly(shard, spec: spec, concurrency: concurrency).assembled()
    }

    /// A whole shard's inner chunks, encoded (`encode`, and `ZarrArray.writeChunk`, which
    /// applies the all-fill rule of `ShardAssembly` to it).
    public func assembly(_ shard: NDBuffer, spec: ChunkSpec, concurrency: Int) throws -> ShardAssembly {
        try validateShape(spec.shape)
        let grid = chunksPerShard(spec.shape)
        let origins = allIndices(grid).map { zip($0, innerChunkShape).map { $0 * $1 } }
        let chunkShape = innerChunkShape, codec = self
        @Sendable func encodeInner(_ i: Int) throws -> [UInt8]? {
            try codec.encodeInner(shard.extract(Region(origin: origins[i], shape: chunkShape)), spec: spec)
        }
        let assembly = Mutex(ShardAssembly(codec: self, chunksPerShard: grid))
        try parallelFor(origins.count, width: max(1, concurrency)) { i in
            let bytes = try encodeInner(i)
            assembly.withLock { $0.add(bytes, at: i) }
        }
        return assembly.withLock { $0 }
    }

    /// One inner chunk encoded with the inner codecs, or nil when it is all fill value
    /// (such chunks are not stored). `shardSpec` is the shard's spec (type and fill).
    public func encodeInner(_ inner: NDBuffer, spec shardSpec: ChunkSpec) throws -> [UInt8]? {
        if inner.isUniform(shardSpec.fillValue) { return nil }
        return try codecs.encode(inner, spec: ChunkSpec(shape: innerChunkShape, dataType: shardSpec.dataType, fillValue: shardSpec.fillValue))
    }

    func encodeIndex(_ index: [UInt64], grid: [Int]) throws -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: index.count * 8)
        raw.withUnsafeMutableBytes { p in
            for (i, v) in index.enumerated() { p.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: UInt64.self) }
        }
        let spec = indexSpec(grid)
        return try indexCodecs.encode(NDBuffer(dataType: .uint64, shape: spec.shape, bytes: raw), spec: spec)
    }

    // MARK: decode

    /// Parses an encoded index; entries are nil for inner chunks that are not stored.
    /// `shardSize` is the whole shard's length, to reject entries pointing outside it.
    public func decodeIndex(_ bytes: [UInt8], chunksPerShard grid: [Int], shardSize: Int) throws -> [Entry?] {
        let decoded = try indexCodecs.decode(bytes, spec: indexSpec(grid))
        let count = decoded.bytes.count / 16
        return try decoded.bytes.withUnsafeBytes { p in
            try (0..<count).map { i -> Entry? in
                let offset = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self))
                let length = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self))
                if offset == UInt64.max && length == UInt64.max { return nil }
                guard offset <= UInt64(shardSize), length <= UInt64(shardSize) - offset else {
                    throw corrupt("shard index entry \(i) (offset \(offset), length \(length)) is out of bounds of the \(shardSize)-byte shard")
                }
                return Entry(offset: Int(offset), length: Int(length))
            }
        }
    }

    /// The index's byte range within a shard of `shardSize` bytes.
    public func indexRange(shardSize: Int, indexSize: Int) -> Range<Int> {
        indexLocation == .start ? 0..<indexSize : (shardSize - indexSize)..<shardSize
    }

    public func decode(_ bytes: [UInt8], spec: ChunkSpec) throws -> NDBuffer {
        try validateShape(spec.shape)
        let grid = chunksPerShard(spec.shape)
        guard let indexSize = indexByteCount(chunksPerShard: grid) else { throw corrupt("shard index of \(grid) inner chunks is too large to read") }
        guard let innerLimit = maxInnerSize(spec) else { throw corrupt("inner chunk shape \(innerChunkShape) is too large") }
        guard bytes.count >= indexSize else { throw corrupt("shard of \(bytes.count) bytes is shorter than its \(indexSize)-byte index") }
        let entries = try decodeIndex(Array(bytes[indexRange(shardSize: bytes.count, indexSize: indexSize)]),
                                      chunksPerShard: grid, shardSize: bytes.count)
        var shard = NDBuffer(dataType: spec.dataType, shape: spec.shape, fill: spec.fillValue)
        let innerSpec = ChunkSpec(shape: innerChunkShape, dataType: spec.dataType, fillValue: spec.fillValue)
        var n = 0
        try forEachIndex(grid) { ci in
            defer { n += 1 }
            guard let e = entries[n] else { return }
            guard e.length <= innerLimit else { throw corrupt("inner chunk \(ci) of \(e.length) bytes is larger than the \(innerLimit) an inner chunk can take") }
            let inner = try codecs.decode(Array(bytes[e.offset..<(e.offset + e.length)]), spec: innerSpec)
            shard.paste(inner, from: Array(repeating: 0, count: grid.count),
                        to: zip(ci, innerChunkShape).map { $0 * $1 }, size: innerChunkShape)
        }
        return shard
    }

    /// Decodes one stored inner chunk.
    public func decodeInner(_ bytes: [UInt8], spec: ChunkSpec) throws -> NDBuffer {
        try codecs.decode(bytes, spec: ChunkSpec(shape: innerChunkShape, dataType: spec.dataType, fillValue: spec.fillValue))
    }
}

extension CodecPipeline {
    /// The index codecs every writer uses and readers expect: little-endian + crc32c.
    public static let defaultShardIndex = CodecPipeline(arrayToBytes: BytesCodec(endian: .little), bytesToBytes: [CRC32CCodec()])
}
