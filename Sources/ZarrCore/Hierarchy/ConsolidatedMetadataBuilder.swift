import Storage

/// Consolidated metadata built from what a store holds, so a reader opens a whole
/// hierarchy in one request: `.zmetadata` for a Zarr v2 group, and `consolidated_metadata`
/// inlined into a v3 group's `zarr.json` (the form zarr-python writes). Both walk with
/// `HierarchyWalk` and throw `WalkTooCostly` past its limits.
public enum ConsolidatedMetadataBuilder {
    /// `.zmetadata` for the v2 group at `group` ("" for the root), or nil if there is no
    /// v2 group there.
    public static func v2(_ store: any Store, group: String, limits: WalkLimits) throws -> JSONValue? {
        let walk = HierarchyWalk(store: store, group: group, limits: limits)
        let top = try walk.list("")
        guard let zgroup = try walk.document("", ZarrKeys.group, listed: top.objects) else { return nil }
        var metadata: [String: JSONValue] = [ZarrKeys.group: zgroup]
        metadata[ZarrKeys.attributes] = try walk.document("", ZarrKeys.attributes, listed: top.objects)
        try walk.walk(top.folders, names: [ZarrKeys.array, ZarrKeys.group, ZarrKeys.attributes]) { path, objects in
            // A folder is an array, or else a group, or else not a node (not descended into).
            for name in [ZarrKeys.array, ZarrKeys.group] {
                guard let node = try walk.document(path, name, listed: objects) else { continue }
                metadata[joinKey(path, name)] = node
                metadata[joinKey(path, ZarrKeys.attributes)] = try walk.document(path, ZarrKeys.attributes, listed: objects)
                return name == ZarrKeys.group
            }
            return false
        }
        return ["metadata": .object(metadata), "zarr_consolidated_format": 1]
    }

    /// The v3 group document `stored` (read from `group`'s `zarr.json`) with inline
    /// consolidated metadata added, or nil if it is not a v3 group or already carries
    /// consolidated metadata (it is then served as stored).
    public static func v3Inline(_ store: any Store, group: String, document stored: [UInt8], limits: WalkLimits) throws -> JSONValue? {
        let key = joinKey(group, ZarrKeys.v3)
        guard case var .object(root)? = try? JSONValue.parse(stored, key: store.describe(key)),
              root["node_type"]?.stringValue == "group", root["zarr_format"]?.intValue == 3 else { return nil }
        if let existing = root["consolidated_metadata"], existing != .null { return nil }
        let walk = HierarchyWalk(store: store, group: group, limits: limits)
        try walk.charge(stored.count, key: key)
        var metadata = [String: JSONValue]()
        try walk.walk(try walk.list("").folders, names: [ZarrKeys.v3]) { path, objects in
            guard case var .object(node)? = try walk.document(path, ZarrKeys.v3, listed: objects),
                  node["zarr_format"]?.intValue == 3 else { return false }
            switch node["node_type"]?.stringValue {
            case "group":
                // Nested groups are listed flat under their relative path, as zarr-python does.
                node["consolidated_metadata"] = .null
                metadata[path] = .object(node)
                return true
            case "array":
                metadata[path] = .object(node)
                return false
            default:
                return false
            }
        }
        root["consolidated_metadata"] = ["kind": "inline", "must_understand": false, "metadata": .object(metadata)]
        return .object(root)
    }
}
