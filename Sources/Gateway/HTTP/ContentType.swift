/// The media type of a stored key: Zarr and NGFF metadata are JSON, everything else is
/// opaque bytes (chunks and shards are never labelled as compressed text).
enum ContentType {
    static func of(_ key: Substring) -> String {
        let name = key.split(separator: "/").last ?? key
        switch name {
        case "zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata": return "application/json"
        default:
            if name.hasSuffix(".json") { return "application/json" }
            if name.hasSuffix(".xml") { return "application/xml" }
            return "application/octet-stream"
        }
    }
}
