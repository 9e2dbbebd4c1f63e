/// Zarr v2 `.zarray` (attributes live in the sibling `.zattrs`).
extension ArrayMetadata {
    public init(v2 json: JSONValue, attributes: [String: JSONValue], key: String) throws {
        func bad(_ r: String) -> ZarrError { .invalidMetadata(key: key, reason: r) }
        guard json["zarr_format"]?.intValue == 2 else { throw bad("zarr_format is not 2") }
        guard let shape = json["shape"]?.arrayValue?.compactMap(\.intValue), shape.count == json["shape"]?.arrayValue?.count else {
            throw bad("shape must be a list of integers")
        }
        guard let chunks = json["chunks"]?.arrayValue?.compactMap(\.intValue), chunks.count == shape.count else {
            throw bad("chunks must list one integer per dimension")
        }
        guard let typestr = json["dtype"]?.stringValue else {
            throw ZarrError.unsupported(key: key, what: "dtype \(json["dtype"].map { "\($0)" } ?? "missing") (structured dtypes are not supported)")
        }
        guard let (dataType, bigEndian) = DataType.parseV2(typestr) else { throw ZarrError.unsupported(key: key, what: "dtype '\(typestr)'") }
        if let filters = json["filters"], filters != .null, filters.arrayValue?.isEmpty != true {
            throw ZarrError.unsupported(key: key, what: "v2 filters \(filters)")
        }
        var a2a = [any ArrayToArrayCodec]()
        switch json["order"]?.stringValue ?? "C" {
        case "C": break
        case "F": if shape.count > 1 { a2a.append(TransposeCodec.fortran(dimensions: shape.count)) }
        case let o: throw bad("order '\(o)' is not 'C' or 'F'")
        }
        var b2b = [any BytesToBytesCodec]()
        if let c = json["compressor"], c != .null { b2b.append(try v2Compressor(c, dataType: dataType, chunkShape: chunks, key: key)) }
        let sep = json["dimension_separator"]?.stringValue ?? "."
        guard sep == "." || sep == "/" else { throw bad("dimension_separator must be '.' or '/'") }
        self.init(format: .v2, shape: shape, chunkShape: chunks, dataType: dataType,
                  fillValue: try FillValue(json: json["fill_value"] ?? .null, type: dataType, key: key),
                  codecs: CodecPipeline(arrayToArray: a2a, arrayToBytes: BytesCodec(endian: bigEndian ? .big : .little), bytesToBytes: b2b),
                  chunkKeyEncoding: ChunkKeyEncoding(kind: .v2, separator: Character(sep)),
                  dimensionNames: nil, attributes: attributes)
        try validate(key: key)
    }

    /// The `.zarray` document, or an error naming what v2 cannot express (sharding,
    /// several compressors, arbitrary transposes).
    public func v2Metadata(key: String) throws -> JSONValue {
        func cannot(_ what: String) -> ZarrError { .unsupported(key: key, what: "\(what) cannot be written as Zarr v2") }
        var order = "C"
        for codec in codecs.arrayToArray {
            guard let t = codec as? TransposeCodec else { throw cannot("codec \(codec.metadata)") }
            if t.isIdentity { continue }
            guard t.order == TransposeCodec.fortran(dimensions: dimensions).order, order == "C" else { throw cannot("transpose \(t.order)") }
            order = "F"
        }
        guard let bytes = codecs.arrayToBytes as? BytesCodec else { throw cannot("sharding") }
        guard codecs.bytesToBytes.count <= 1 else { throw cannot("a chain of \(codecs.bytesToBytes.count) compressors") }
        var compressor = JSONValue.null
        if let c = codecs.bytesToBytes.first {
            guard let m = c.v2Metadata else { throw cannot("codec \(c.metadata)") }
            compressor = m
        }
        var dtype = dataType.v2TypeString
        if bytes.endian == .big && dataType.size > 1 { dtype = ">" + dtype.dropFirst() }
        return [
            "zarr_format": 2, "shape": JSONValue(shape), "chunks": JSONValue(chunkShape), "dtype": .string(dtype),
            "fill_value": fillValue.json(dataType), "order": .string(order), "compressor": compressor, "filters": .null,
            "dimension_separator": .string(String(chunkKeyEncoding.separator)),
        ]
    }
}

/// A numcodecs compressor object as a bytes→bytes codec.
func v2Compressor(_ c: JSONValue, dataType: DataType, chunkShape: [Int], key: String) throws -> any BytesToBytesCodec {
    switch c["id"]?.stringValue ?? "" {
    case "blosc": return try BloscCodec(v2: c, typesize: dataType.size, key: key)
    case "zstd": return try ZstdCodec(configuration: c, key: key)
    case "gzip": return try GzipCodec(level: c["level"], framing: .gzip, key: key)
    case "zlib": return try GzipCodec(level: c["level"], framing: .zlib, key: key)
    case JpegCodec.v2ID: return try JpegCodec(v2: c, dataType: dataType, chunkShape: chunkShape, key: key)
    case let id: throw ZarrError.unsupported(key: key, what: "compressor '\(id)'")
    }
}
