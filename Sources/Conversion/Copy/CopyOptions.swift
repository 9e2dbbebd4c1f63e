import ZarrCore

/// The compressions `--codec` offers; each maps to one bytes→bytes codec.
public enum CodecChoice: String, Sendable, CaseIterable {
    case bloscZstd = "blosc-zstd"
    case bloscLz4 = "blosc-lz4"
    case zstd
    case gzip
    case none
    /// Lossy, opt-in only, Zarr v2 only: imagecodecs' `imagecodecs_jpeg` (`JpegCodec`).
    case jpeg

    /// The codec for chunks of `chunkShape` elements of `dataType`, at `level` or the
    /// choice's default; a usage error when the choice cannot hold them (JPEG: not 8-bit,
    /// a quality outside 1...100, a chunk too large for one JPEG image).
    public func codec(level: Int?, dataType: DataType, chunkShape: [Int]) throws -> (any BytesToBytesCodec)? {
        let typesize = dataType.size
        switch self {
        case .bloscZstd: return BloscCodec(cname: "zstd", clevel: level ?? 5, shuffle: .shuffle, typesize: typesize)
        case .bloscLz4: return BloscCodec(cname: "lz4", clevel: level ?? 5, shuffle: .shuffle, typesize: typesize)
        case .zstd: return ZstdCodec(level: level ?? 3)
        case .gzip: return GzipCodec(level: level ?? 5, framing: .gzip)
        case .none: return nil
        case .jpeg: return try JpegCodec(quality: level, dataType: dataType, chunkShape: chunkShape)
        }
    }

    /// Whether the choice loses information (JPEG): never a default, and never for labels.
    public var isLossy: Bool { self == .jpeg }

    /// Why the choice cannot be written as Zarr `format` (nil when it can): no Zarr v3
    /// reader — zarr-python, tensorstore, neuroglancer — decodes a JPEG codec.
    public func refusal(format: ZarrFormat) -> String? {
        guard self == .jpeg, format == .v3 else { return nil }
        return "--codec jpeg writes Zarr v2 only (NGFF 0.4: --ngff 0.4 for convert, --zarr-format 2 for copy): "
            + "no Zarr v3 reader decodes a JPEG codec (Docs/convert.md, \"Lossy JPEG\")"
    }

    /// `--level` checked for this choice: JPEG's is the quality, 1...100.
    public func checkLevel(_ level: Int?) throws {
        if self == .jpeg, let level, !JpegCodec.qualities.contains(level) {
            throw UsageError("--level for --codec jpeg is the JPEG quality, 1...100; got \(level)")
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
