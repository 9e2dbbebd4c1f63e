import ZarrCore

/// The media type of a stored key: Zarr and NGFF metadata are JSON, everything else is
/// opaque bytes (chunks and shards are never labelled as compressed text).
enum ContentType {
    static func of(_ key: Substring) -> String {
        // Only the last path segment counts; compared byte-wise, as this runs per chunk.
        let name = RequestPath.lastSegment(of: key)
        if name.elementsEqual(ZarrKeys.array.utf8) || name.elementsEqual(ZarrKeys.group.utf8) || name.elementsEqual(ZarrKeys.attributes.utf8)
            || name.elementsEqual(ZarrKeys.consolidated.utf8) || name.hasSuffix(".json".utf8) {
            return "application/json"
        }
        return name.hasSuffix(".xml".utf8) ? "application/xml" : "application/octet-stream"
    }
}

private extension Substring.UTF8View {
    func hasSuffix(_ suffix: String.UTF8View) -> Bool {
        count >= suffix.count && self[index(endIndex, offsetBy: -suffix.count)...].elementsEqual(suffix)
    }
}
