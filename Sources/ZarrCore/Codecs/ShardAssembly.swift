/// One shard built from its encoded inner chunks, given in any order: the codec encodes
/// them in parallel, the converter finishes them as pyramid pieces arrive. The bytes do
/// not depend on the order: stored inner chunks follow each other in C order of the
/// shard's grid, and the index goes after them (or before, for `index_location: start`).
///
/// The all-fill rule, one for the codec's writes (`ZarrArray.writeChunk`) and the
/// converter's (`LevelWriter`): inner chunks that are all fill value are not stored
/// (their index entries are 2^64−1), and a shard whose inner chunks are all fill value
/// must not exist as an object at all — `object()` is then nil and `ZarrArray.storeObject`
/// deletes the key, so that a shard an earlier run stored there (a resumed or rewritten
/// output) cannot survive and be read in place of the fill value.
public struct ShardAssembly: Sendable {
    public let codec: ShardingCodec
    public let chunksPerShard: [Int]
    private var encoded: [[UInt8]?]
    /// How many inner chunks have been added.
    public private(set) var received = 0

    public init(codec: ShardingCodec, chunksPerShard: [Int]) {
        self.codec = codec
        self.chunksPerShard = chunksPerShard
        encoded = Array(repeating: nil, count: chunksPerShard.reduce(1, *))
    }

    /// The number of inner chunks in a whole shard.
    public var innerChunkCount: Int { encoded.count }

    /// Takes the inner chunk at `position` (its C-order index in the shard's grid): its
    /// encoded bytes, or nil when it is all fill value.
    public mutating func add(_ bytes: [UInt8]?, at position: Int) {
        encoded[position] = bytes
        received += 1
    }

    /// Whether no inner chunk holds anything but fill value.
    public var isAllFill: Bool { !encoded.contains { $0 != nil } }

    /// What to store for this shard: its bytes, or nil when it is all fill value (see the
    /// rule above).
    public func object() throws -> [UInt8]? { isAllFill ? nil : try assembled() }

    /// The shard's bytes, index included, whatever it holds (an all-fill shard is an index
    /// of empty entries): what the codec's `encode` returns.
    public func assembled() throws -> [UInt8] {
        guard let indexSize = codec.indexByteCount(chunksPerShard: chunksPerShard) else {
            throw ZarrError.invalidMetadata(key: "", reason: "shard index size is not fixed, or over the \(Limits.objectBytes)-byte object limit")
        }
        var index = [UInt64](repeating: UInt64.max, count: encoded.count * 2)
        // One output buffer, sized up front: the shard is assembled in place, never re-copied.
        var out = [UInt8]()
        out.reserveCapacity(encoded.reduce(indexSize) { $0 + ($1?.count ?? 0) })
        if codec.indexLocation == .start { out.append(contentsOf: repeatElement(0, count: indexSize)) }
        for (i, bytes) in encoded.enumerated() {
            guard let bytes else { continue }
            index[2 * i] = UInt64(out.count)
            index[2 * i + 1] = UInt64(bytes.count)
            out.append(contentsOf: bytes)
        }
        let indexBytes = try codec.encodeIndex(index, grid: chunksPerShard)
        guard indexBytes.count == indexSize else { throw ZarrError.invalidMetadata(key: "", reason: "shard index encoded to an unexpected size") }
        if codec.indexLocation == .start {
            out.replaceSubrange(0..<indexSize, with: indexBytes)
        } else {
            out.append(contentsOf: indexBytes)
        }
        return out
    }
}
