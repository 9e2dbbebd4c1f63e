import Foundation

/// Consolidated metadata built from what a root stores, so a reader opens a whole
/// hierarchy in one request: `.zmetadata` for a Zarr v2 group, and `consolidated_metadata`
/// inlined into a v3 group's `zarr.json` (the form zarr-python writes).
///
/// The walk visits nodes only: it reads each folder's metadata documents and descends
/// into groups' subfolders, never into an array's chunks, so its cost follows the number
/// of arrays and groups, not of chunks.
enum ConsolidatedMetadata {
    /// A key split into its folder and last name, e.g. "img/0/zarr.json" → ("img/0", "zarr.json").
    static func split(_ key: String) -> (folder: String, name: Substring) {
        guard let slash = key.lastIndex(of: "/") else { return ("", key[...]) }
        return (String(key[..<slash]), key[key.index(after: slash)...])
    }

    /// Whether the gateway may answer `key` with a generated document instead of the
    /// stored bytes (a v2 `.zmetadata`, a v3 group `zarr.json`).
    static func mayGenerate(_ key: String) -> Bool {
        // Byte-wise: the fast path asks this for every key it answers.
        let name = RequestPath.lastSegment(of: key[...])
        return name.elementsEqual(".zmetadata".utf8) || name.elementsEqual("zarr.json".utf8)
    }

    /// `.zmetadata` for the v2 group at `group` ("" for the root), or nil if there is no
    /// v2 group there.
    static func v2(_ source: any ObjectSource, group: String) async throws -> [UInt8]? {
        guard let zgroup = try await document(source, joinPath(group, ".zgroup")) else { return nil }
        var entries: [(String, Any)] = [(".zgroup", zgroup)]
        if let attrs = try await document(source, joinPath(group, ".zattrs")) { entries.append((".zattrs", attrs)) }
        try await walkV2(source, group: group, relative: "", into: &entries)
        var metadata = [String: Any]()
        for (k, v) in entries { metadata[k] = v }
        return try serialize(["metadata": metadata, "zarr_consolidated_format": 1])
    }

    private static func walkV2(_ source: any ObjectSource, group: String, relative: String, into entries: inout [(String, Any)]) async throws {
        guard let listing = try await source.listFolder(joinPath(group, relative)) else { return }
        for child in listing.folders {
            let rel = joinPath(relative, child)
            let path = joinPath(group, rel)
            if let array = try await document(source, joinPath(path, ".zarray")) {
                entries.append((rel + "/.zarray", array))
                if let attrs = try await document(source, joinPath(path, ".zattrs")) { entries.append((rel + "/.zattrs", attrs)) }
            } else if let g = try await document(source, joinPath(path, ".zgroup")) {
                entries.append((rel + "/.zgroup", g))
                if let attrs = try await document(source, joinPath(path, ".zattrs")) { entries.append((rel + "/.zattrs", attrs)) }
                try await walkV2(source, group: group, relative: rel, into: &entries)
            }
        }
    }

    /// The v3 group document at `group` with inline consolidated metadata added, or nil if
    /// it is not a v3 group or already carries consolidated metadata (served as stored).
    static func v3Inline(_ source: any ObjectSource, group: String, document stored: [UInt8]) async throws -> [UInt8]? {
        guard var root = try? JSONSerialization.jsonObject(with: Data(stored)) as? [String: Any],
              root["node_type"] as? String == "group", root["zarr_format"] as? Int == 3 else { return nil }
        if let existing = root["consolidated_metadata"], !(existing is NSNull) { return nil }
        var metadata = [String: Any]()
        try await walkV3(source, group: group, relative: "", into: &metadata)
        root["consolidated_metadata"] = ["kind": "inline", "must_understand": false, "metadata": metadata] as [String: Any]
        return try serialize(root)
    }

    private static func walkV3(_ source: any ObjectSource, group: String, relative: String, into metadata: inout [String: Any]) async throws {
        guard let listing = try await source.listFolder(joinPath(group, relative)) else { return }
        for child in listing.folders {
            let rel = joinPath(relative, child)
            guard let node = try await document(source, joinPath(group, rel, "zarr.json")) as? [String: Any],
                  node["zarr_format"] as? Int == 3 else { continue }
            var entry = node
            if node["node_type"] as? String == "group" {
                // Nested groups are listed flat under their relative path, as zarr-python does.
                entry["consolidated_metadata"] = NSNull()
                metadata[rel] = entry
                try await walkV3(source, group: group, relative: rel, into: &metadata)
            } else if node["node_type"] as? String == "array" {
                metadata[rel] = entry
            }
        }
    }

    private static func document(_ source: any ObjectSource, _ key: String) async throws -> Any? {
        guard let bytes = try await source.readAll(key) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    private static func serialize(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func joinPath(_ parts: String...) -> String {
        parts.filter { !$0.isEmpty }.joined(separator: "/")
    }
}
