import ZarrCore

/// The compressions `--codec` offers; each maps to one bytes→bytes codec.
public enum CodecChoice: String, Sendable, CaseIterable {
    case bloscZstd = "blosc-zstd"
    case bloscLz4 = "blosc-lz4"
    case zstd
    case gzip
    case none

    /// The codec for elements of `typesize` bytes, at `level` or the choice's default.
    public func codec(level: Int?, typesize: Int) -> (any BytesToBytesCodec)? {
        switch self {
        case .bloscZstd: return BloscCodec(cname: "zstd", clevel: level ?? 5, shuffle: .shuffle, typesize: typesize)
        case .bloscLz4: return BloscCodec(cname: "lz4", clevel: level ?? 5, shuffle: .shuffle, typesize: typesize)
        case .zstd: return ZstdCodec(level: level ?? 3)
        case .gzip: return GzipCodec(level: level ?? 5, framing: .gzip)
        case .none: return nil
        }
    }
}

/// Memory order of stored chunks: C (row-major) or F (v2's column-major, v3 transpose).
public enum ChunkOrder: String, Sendable { case c = "C", f = "F" }

/// How `tessera copy` re-encodes. Every nil field means "as the source has it".
public struct CopyOptions: Sendable {
    public var format: ZarrFormat?
    public var chunks: [Int]?
    public var shards: [Int]?
    public var codec: CodecChoice?
    public var level: Int?
    /// v3: a whole `codecs` list; v2: a `compressor` object (or null).
    public var codecsJSON: JSONValue?
    public var order: ChunkOrder?
    public var jobs: Int
    public var overwrite: Bool

    public init(format: ZarrFormat? = nil, chunks: [Int]? = nil, shards: [Int]? = nil, codec: CodecChoice? = nil,
                level: Int? = nil, codecsJSON: JSONValue? = nil, order: ChunkOrder? = nil,
                jobs: Int = defaultConcurrency, overwrite: Bool = false) {
        self.format = format
        self.chunks = chunks
        self.shards = shards
        self.codec = codec
        self.level = level
        self.codecsJSON = codecsJSON
        self.order = order
        self.jobs = jobs
        self.overwrite = overwrite
    }
}
