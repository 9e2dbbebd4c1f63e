import NGFF
import ZarrCore

/// Decides the destination metadata of one array from its source metadata and the
/// options; pure, so the whole plan is known (and checked) before anything is written.
public struct ArrayPlanner: Sendable {
    public let options: CopyOptions

    public init(options: CopyOptions) { self.options = options }

    public func plan(_ source: ArrayMetadata, axisNames: [String]?) throws -> ArrayMetadata {
        let format = options.format ?? source.format
        let n = source.dimensions
        let sourceSharding = source.codecs.sharding
        let sourceInner = sourceSharding?.codecs ?? source.codecs

        let chunks = try options.chunks.map { try fit($0, to: source.shape, what: "--chunks") }
            ?? (sourceSharding?.innerChunkShape ?? source.chunkShape)
        var shards: [Int]?
        if let s = options.shards {
            guard format == .v3 else { throw UsageError("--shards needs Zarr v3 (--zarr-format 3)") }
            // A shard never needs to reach past the last chunk of the array.
            let roundedShape = zip(source.shape, chunks).map { shape, chunk in
                let (rounded, overflow) = ceilDiv(shape, chunk).multipliedReportingOverflow(by: chunk)
                return overflow ? Int.max : max(chunk, rounded)
            }
            shards = try fit(s, to: roundedShape, what: "--shards")
        } else if format == .v3, options.codecsJSON == nil, let sourceSharding, options.chunks == nil || options.chunks! == sourceSharding.innerChunkShape {
            shards = source.chunkShape
        }

        // Array→array: an explicit order wins, else keep a source transpose v2 can express.
        var transpose = [any ArrayToArrayCodec]()
        switch options.order {
        case .f?: if n > 1 { transpose = [TransposeCodec.fortran(dimensions: n)] }
        case .c?: break
        case nil:
            let t = sourceInner.arrayToArray.compactMap { $0 as? TransposeCodec }.filter { !$0.isIdentity }
            if format == .v3 || t.allSatisfy({ $0.order == TransposeCodec.fortran(dimensions: n).order }) { transpose = t }
        }

        let compression = try compressionCodecs(source: sourceInner.bytesToBytes, format: format, dataType: source.dataType, chunks: chunks)
        var pipeline = CodecPipeline(arrayToArray: transpose, arrayToBytes: BytesCodec(endian: .little), bytesToBytes: compression)
        var outer = chunks
        if let json = options.codecsJSON {
            outer = shards ?? chunks
            switch format {
            case .v3:
                guard let list = json.arrayValue else { throw UsageError("--codecs must be a JSON list of v3 codecs") }
                pipeline = try CodecPipeline(v3: list, dataType: source.dataType, dimensions: n, key: "--codecs")
            case .v2:
                let b2b = try json == .null ? [] : [v2CompressorCodec(json, dataType: source.dataType, chunks: chunks)]
                pipeline = CodecPipeline(arrayToArray: transpose, arrayToBytes: BytesCodec(endian: .little), bytesToBytes: b2b)
            }
        } else if let shards {
            guard zip(shards, chunks).allSatisfy({ $0 % $1 == 0 }) else {
                throw UsageError("shard shape \(shards) must be a multiple of the chunk shape \(chunks)")
            }
            let sharding = ShardingCodec(innerChunkShape: chunks, codecs: pipeline)
            pipeline = CodecPipeline(arrayToBytes: sharding)
            outer = shards
        }

        var names: [String?]? = nil
        if format == .v3 {
            names = source.dimensionNames
            if let axisNames, axisNames.count == n { names = axisNames }
        }
        let attributes = NGFFAttributes.translate(source.attributes, to: NGFFVersion(format: format))
        let planned = ArrayMetadata(format: format, shape: source.shape, chunkShape: outer, dataType: source.dataType,
                                    fillValue: source.fillValue, codecs: pipeline,
                                    chunkKeyEncoding: format == .v3 ? .v3Default : .v2Nested,
                                    dimensionNames: names, attributes: attributes)
        try planned.validate(key: "destination")
        if format == .v2 { _ = try planned.v2Metadata(key: "destination") }
        return planned
    }

    /// Bytes→bytes codecs for the destination: the user's choice, else the source's when
    /// the destination format can hold them, else blosc-zstd.
    private func compressionCodecs(source: [any BytesToBytesCodec], format: ZarrFormat, dataType: DataType, chunks: [Int]) throws -> [any BytesToBytesCodec] {
        let fallback = { try CodecChoice.bloscZstd.codec(level: self.options.level, dataType: dataType, chunkShape: chunks).map { [$0] } ?? [] }
        if let choice = options.codec {
            if let refusal = choice.refusal(format: format) { throw UsageError(refusal) }
            return try choice.codec(level: options.level, dataType: dataType, chunkShape: chunks).map { [$0] } ?? []
        }
        // JPEG has no v3 form any reader decodes: a v3 copy of a JPEG array is lossless.
        if format == .v3, source.contains(where: { $0 is JpegCodec }) { return try fallback() }
        let kept: [any BytesToBytesCodec] = try source.map { codec in
            // zlib framing exists only in v2; v3 has the same DEFLATE as gzip.
            if format == .v3, let g = codec as? GzipCodec, g.framing == .zlib { return GzipCodec(level: g.level, framing: .gzip) }
            // JPEG codes each chunk as an image as wide as the chunk: refit it to the new chunks.
            if let j = codec as? JpegCodec { return try JpegCodec(quality: j.quality, dataType: dataType, chunkShape: chunks) }
            return codec
        }
        if format == .v2, kept.count > 1 || kept.contains(where: { $0.v2Metadata == nil }) { return try fallback() }
        return kept
    }

    /// A shape option fitted to an array: right-aligned to its rank (leading axes get 1),
    /// each extent clipped to the array's.
    private func fit(_ requested: [Int], to shape: [Int], what: String) throws -> [Int] {
        guard requested.allSatisfy({ $0 > 0 }) else { throw UsageError("\(what) must be positive integers") }
        guard requested.count <= shape.count else {
            throw UsageError("\(what) has \(requested.count) values for an array of \(shape.count) dimensions")
        }
        let padded = Array(repeating: 1, count: shape.count - requested.count) + requested
        return zip(padded, shape).map { max(1, min($0, $1)) }
    }
}

/// A v2 compressor object from `--codecs`, fitted to the destination's data type and chunks.
func v2CompressorCodec(_ json: JSONValue, dataType: DataType, chunks: [Int]) throws -> any BytesToBytesCodec {
    let typesize = dataType.size
    let pipeline = try ArrayMetadata(
        v2: ["zarr_format": 2, "shape": [1], "chunks": [1], "dtype": "|u1", "fill_value": 0, "compressor": json],
        attributes: [:], key: "--codecs")
    guard let codec = pipeline.codecs.bytesToBytes.first else { throw UsageError("--codecs names no compressor") }
    if let blosc = codec as? BloscCodec {
        return BloscCodec(cname: blosc.cname, clevel: blosc.clevel, shuffle: blosc.shuffle, typesize: typesize, blocksize: blosc.blocksize)
    }
    // The level as given (reading tolerates any; writing takes 1...100).
    if codec is JpegCodec { return try JpegCodec(quality: json["level"]?.intValue, dataType: dataType, chunkShape: chunks) }
    return codec
}
