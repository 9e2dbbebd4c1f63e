/// One shard built from its encoded inner chunks, given in any order: the codec encodes
/// them in parallel, the converter finishes them as pyramid pieces arrive. The bytes do
/// not depend on the order: stored inner chunks follow each other in C order of the
/// shard's grid, and the index goes after them (or before, for `index_location: start`).
///
/// An inner chunk is held either as its bytes (the codec's whole-shard encode) or as the
/// place where the caller keeps them (`Piece.kept`: the converter's spool file, so a shard
/// in progress holds only its index in memory); `write(to:reading:)` streams the shard
/// out in order, asking for each kept chunk when its turn comes. One layout for both.
///
/// The all-fill rule, one for the codec's writes (`ZarrArray.writeChunk`) and the
/// converter's (`LevelWriter`): inner chunks that are all fill value are not stored
/// (their index entries are 2^64−1), and a shard whose inner chunks are all fill value
/// must not exist as an object at all — `object()` is then nil and `ZarrArray.storeObject`
/// deletes the key, so that a shard an earlier run stored there (a resumed or rewritten
/// output) cannot survive and be read in place of the fill value.
public struct ShardAssembly: Sendable {
    /// A stored inner chunk: its bytes, or `length` bytes the caller keeps at `offset`
    /// (of a spool of its own) and hands back through `write(to:reading:)`.
    public enum Piece: Sendable, Equatable {
        case bytes([UInt8])
        case kept(offset: Int, length: Int)

        var length: Int {
            switch self {
            case let .bytes(b): b.count
            case let .kept(_, length): length
            }
        }
    }

    public let codec: ShardingCodec
    public let chunksPerShard: [Int]
    private var pieces: [Piece?]
    /// How many inner chunks have been added.
    public private(set) var received = 0

    public init(codec: ShardingCodec, chunksPerShard: [Int]) {
        self.codec = codec
        self.chunksPerShard = chunksPerShard
        pieces = Array(repeating: nil, count: chunksPerShard.reduce(1, *))
    }

    /// The number of inner chunks in a whole shard.
    public var innerChunkCount: Int { pieces.count }

    /// Takes the inner chunk at `position` (its C-order index in the shard's grid): its
    /// encoded bytes, or nil when it is all fill value.
    public mutating func add(_ bytes: [UInt8]?, at position: Int) {
        add(piece: bytes.map(Piece.bytes), at: position)
    }

    /// Takes the inner chunk at `position` as a piece held in memory or kept by the caller,
    /// or nil when it is all fill value.
    public mutating func add(piece: Piece?, at position: Int) {
        pieces[position] = piece
        received += 1
    }

    /// The bytes of the inner chunks held in memory (kept pieces are not).
    public var bytesInMemory: Int {
        pieces.reduce(0) { n, piece in
            if case let .bytes(b)? = piece { return n + b.count }
            return n
        }
    }

    /// Whether no inner chunk holds anything but fill value.
    public var isAllFill: Bool { !pieces.contains { $0 != nil } }

    /// What to store for this shard: its bytes, or nil when it is all fill value (see the
    /// rule above).
    public func object() throws -> [UInt8]? { isAllFill ? nil : try assembled() }

    /// The shard's bytes, index included, whatever it holds (an all-fill shard is an index
    /// of empty entries): what the codec's `encode` returns.
    public func assembled() throws -> [UInt8] {
        // One output buffer, sized up front: the shard is assembled in place, never re-copied.
        var out = [UInt8]()
        out.reserveCapacity(try size())
        try write(to: { out.append(contentsOf: $0) }, reading: { _, _ in
            throw ZarrError.invalidRequest("internal error: a shard with kept inner chunks was assembled in memory")
        })
        return out
    }

    /// The shard's size in bytes, index included.
    public func size() throws -> Int {
        pieces.reduce(try indexSize()) { $0 + ($1?.length ?? 0) }
    }

    /// Streams the shard to `sink` in the order of its bytes — index (when at the start),
    /// inner chunks in C order, index (when at the end) — reading each kept piece through
    /// `read(offset, length)` only when it is due, so at most one inner chunk is in memory.
    /// Returns the number of bytes written.
    @discardableResult
    public func write(to sink: ([UInt8]) throws -> Void, reading read: (Int, Int) throws -> [UInt8]) throws -> Int {
        let indexSize = try indexSize()
        // The index is known before any chunk is written: offsets follow from the lengths.
        var index = [UInt64](repeating: UInt64.max, count: pieces.count * 2)
        var offset = codec.indexLocation == .start ? indexSize : 0
        for (i, piece) in pieces.enumerated() {
            guard let piece else { continue }
            index[2 * i] = UInt64(offset)
            index[2 * i + 1] = UInt64(piece.length)
            offset += piece.length
        }
        let indexBytes = try codec.encodeIndex(index, grid: chunksPerShard)
        guard indexBytes.count == indexSize else { throw ZarrError.invalidMetadata(key: "", reason: "shard index encoded to an unexpected size") }
        if codec.indexLocation == .start { try sink(indexBytes) }
        for piece in pieces {
            switch piece {
            case nil: continue
            case let .bytes(b)?: try sink(b)
            case let .kept(at, length)?:
                let b = try read(at, length)
                guard b.count == length else {
                    throw ZarrError.invalidRequest("internal error: a kept inner chunk of \(length) bytes read back as \(b.count)")
                }
                try sink(b)
            }
        }
        if codec.indexLocation == .end { try sink(indexBytes) }
        return offset + (codec.indexLocation == .end ? indexSize : 0)
    }

    private func indexSize() throws -> Int {
        guard let n = codec.indexByteCount(chunksPerShard: chunksPerShard) else {
            throw ZarrError.invalidMetadata(key: "", reason: "shard index size is not fixed, or over the \(Limits.objectBytes)-byte object limit")
        }
        return n
    }
}
