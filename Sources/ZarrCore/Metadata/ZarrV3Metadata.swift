/// Zarr v3 `zarr.json` for arrays and groups.
extension ArrayMetadata {
    public init(v3 json: JSONValue, key: String) throws {
        func bad(_ r: String) -> ZarrError { .invalidMetadata(key: key, reason: r) }
        guard json["zarr_format"]?.intValue == 3 else { throw bad("zarr_format is not 3") }
        guard json["node_type"]?.stringValue == "array" else { throw bad("node_type is not 'array'") }
        guard let shape = json["shape"]?.arrayValue?.compactMap(\.intValue), shape.count == json["shape"]?.arrayValue?.count else {
            throw bad("shape must be a list of integers")
        }
        guard let typeName = json["data_type"]?.stringValue else { throw bad("data_type must be a string") }
        guard let dataType = DataType(v3Name: typeName) else { throw ZarrError.unsupported(key: key, what: "data type '\(typeName)'") }
        guard let grid = json["chunk_grid"], grid["name"]?.stringValue == "regular" else {
            throw ZarrError.unsupported(key: key, what: "chunk_grid \(json["chunk_grid"].map { "\($0)" } ?? "missing") (only 'regular')")
        }
        guard let chunks = grid["configuration"]?["chunk_shape"]?.arrayValue?.compactMap(\.intValue), chunks.count == shape.count else {
            throw bad("chunk_grid.configuration.chunk_shape must list one integer per dimension")
        }
        if let transformers = json["storage_transformers"]?.arrayValue, !transformers.isEmpty {
            throw ZarrError.unsupported(key: key, what: "storage_transformers")
        }
        guard let fill = json["fill_value"] else { throw bad("fill_value is required") }
        guard let codecList = json["codecs"]?.arrayValue else { throw bad("codecs must be a list") }
        let codecs = try CodecPipeline(v3: codecList, dataType: dataType, dimensions: shape.count, key: key)
        var names: [String?]?
        if let list = json["dimension_names"]?.arrayValue { names = list.map(\.stringValue) }
        self.init(format: .v3, shape: shape, chunkShape: chunks, dataType: dataType,
                  fillValue: try FillValue(json: fill, type: dataType, key: key), codecs: codecs,
                  chunkKeyEncoding: try ChunkKeyEncoding(v3: json["chunk_key_encoding"], key: key),
                  dimensionNames: names, attributes: json["attributes"]?.objectValue ?? [:])
        try validate(key: key)
    }

    public var v3Metadata: JSONValue {
        var o: [String: JSONValue] = [
            "zarr_format": 3, "node_type": "array",
            "shape": JSONValue(shape), "data_type": .string(dataType.v3Name),
            "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": JSONValue(chunkShape)]],
            "chunk_key_encoding": chunkKeyEncoding.v3Metadata,
            "fill_value": fillValue.json(dataType),
            "codecs": .array(codecs.v3Metadata),
            "attributes": .object(attributes),
        ]
        if let names = dimensionNames { o["dimension_names"] = .array(names.map { $0.map(JSONValue.string) ?? .null }) }
        return .object(o)
    }
}

/// A v3 group document.
public func v3GroupMetadata(attributes: [String: JSONValue]) -> JSONValue {
    ["zarr_format": 3, "node_type": "group", "attributes": .object(attributes)]
}
