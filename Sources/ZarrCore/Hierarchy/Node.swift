import Storage

/// A node of a Zarr hierarchy: an array or a group, in either format.
public enum Node: Sendable {
    case array(ArrayMetadata)
    case group(format: ZarrFormat, attributes: [String: JSONValue])

    public var format: ZarrFormat {
        switch self {
        case let .array(m): return m.format
        case let .group(f, _): return f
        }
    }

    public var attributes: [String: JSONValue] {
        switch self {
        case let .array(m): return m.attributes
        case let .group(_, a): return a
        }
    }

    /// Reads the node at `path`: `zarr.json` first, then v2's `.zarray`/`.zgroup`.
    public static func open(store: any Store, path: String) throws -> Node {
        let v3Key = joinKey(path, ZarrKeys.v3)
        if let bytes = try readDocument(store, v3Key) {
            let json = try JSONValue.parse(bytes, key: store.describe(v3Key))
            switch json["node_type"]?.stringValue {
            case "array": return .array(try ArrayMetadata(v3: json, key: store.describe(v3Key)))
            case "group":
                guard json["zarr_format"]?.intValue == 3 else {
                    throw ZarrError.invalidMetadata(key: store.describe(v3Key), reason: "zarr_format is not 3")
                }
                return .group(format: .v3, attributes: json["attributes"]?.objectValue ?? [:])
            default:
                throw ZarrError.invalidMetadata(key: store.describe(v3Key), reason: "node_type must be 'array' or 'group'")
            }
        }
        let attrsKey = joinKey(path, ZarrKeys.attributes)
        func attributes() throws -> [String: JSONValue] {
            guard let bytes = try readDocument(store, attrsKey) else { return [:] }
            guard let o = try JSONValue.parse(bytes, key: store.describe(attrsKey)).objectValue else {
                throw ZarrError.invalidMetadata(key: store.describe(attrsKey), reason: ".zattrs is not a JSON object")
            }
            return o
        }
        let arrayKey = joinKey(path, ZarrKeys.array)
        if let bytes = try readDocument(store, arrayKey) {
            let json = try JSONValue.parse(bytes, key: store.describe(arrayKey))
            return .array(try ArrayMetadata(v2: json, attributes: try attributes(), key: store.describe(arrayKey)))
        }
        let groupKey = joinKey(path, ZarrKeys.group)
        if let bytes = try readDocument(store, groupKey) {
            let json = try JSONValue.parse(bytes, key: store.describe(groupKey))
            guard json["zarr_format"]?.intValue == 2 else {
                throw ZarrError.invalidMetadata(key: store.describe(groupKey), reason: "zarr_format is not 2")
            }
            return .group(format: .v2, attributes: try attributes())
        }
        throw ZarrError.nodeNotFound(path: store.describe(path))
    }

    /// A metadata document, refused unread when it is over `Limits.metadataBytes`.
    static func readDocument(_ store: any Store, _ key: String) throws -> [UInt8]? {
        do { return try store.get(key, limit: Limits.metadataBytes) } catch let e as ObjectTooLarge {
            throw ZarrError.invalidMetadata(key: store.describe(key), reason: "document of \(e)")
        }
    }

    /// Writes an array's metadata; for v2 `.zattrs` goes first so `.zarray` appearing
    /// means the node is complete. Each document is published (`Store.publish`): on a
    /// durable store every object written before it reaches the disk first.
    public static func writeArrayMetadata(_ m: ArrayMetadata, store: any Store, path: String) throws {
        switch m.format {
        case .v3:
            try store.publish(joinKey(path, ZarrKeys.v3), m.v3Metadata.serialized())
        case .v2:
            let document = try m.v2Metadata(key: store.describe(joinKey(path, ZarrKeys.array)))
            if !m.attributes.isEmpty { try store.publish(joinKey(path, ZarrKeys.attributes), JSONValue.object(m.attributes).serialized()) }
            try store.publish(joinKey(path, ZarrKeys.array), document.serialized())
        }
    }

    /// Writes a group's metadata, attributes first for v2 (see `writeArrayMetadata`).
    public static func writeGroupMetadata(format: ZarrFormat, attributes: [String: JSONValue], store: any Store, path: String) throws {
        switch format {
        case .v3:
            try store.publish(joinKey(path, ZarrKeys.v3), v3GroupMetadata(attributes: attributes).serialized())
        case .v2:
            if !attributes.isEmpty { try store.publish(joinKey(path, ZarrKeys.attributes), JSONValue.object(attributes).serialized()) }
            try store.publish(joinKey(path, ZarrKeys.group), (["zarr_format": 2] as JSONValue).serialized())
        }
    }
}
