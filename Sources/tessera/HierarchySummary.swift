import ZarrCore

/// `tessera info --summary`: objects and bytes per array and in total, nothing read from
/// an array's metadata beyond that it is one — for stores too large to read a tree of.
/// Objects under no array (group metadata, stray files) are one more line, so the lines
/// add up to the total exactly.
extension HierarchyReport {
    private var arrays: [Hierarchy.Entry] {
        hierarchy.entries.filter { if case .array = $0.node { return true } else { return false } }
    }

    /// Objects and bytes under no array.
    private var outsideArrays: (objects: Int, bytes: Int) {
        hierarchy.entries.reduce((0, 0)) { sum, e in
            if case .array = e.node { return sum }
            return (saturatingAdd(sum.0, e.objectCount), saturatingAdd(sum.1, e.storedBytes))
        }
    }

    var summaryJSON: JSONValue {
        let outside = outsideArrays
        return .object([
            "path": .string(root),
            "objects": JSONValue(hierarchy.totalObjects),
            "stored_bytes": JSONValue(hierarchy.totalBytes),
            "arrays": .array(arrays.map { e in
                .object(["path": .string(e.path), "objects": JSONValue(e.objectCount), "stored_bytes": JSONValue(e.storedBytes)])
            }),
            "outside_arrays": .object(["objects": JSONValue(outside.objects), "stored_bytes": JSONValue(outside.bytes)]),
        ])
    }

    var summaryText: String {
        var lines = [root]
        for e in arrays {
            lines.append("array \(e.path.isEmpty ? "/" : e.path): \(e.objectCount) objects, \(ByteCount.text(e.storedBytes))")
        }
        let outside = outsideArrays
        lines.append("outside arrays: \(outside.objects) objects, \(ByteCount.text(outside.bytes))")
        lines.append("total: \(hierarchy.totalObjects) objects, \(ByteCount.text(hierarchy.totalBytes))")
        return lines.joined(separator: "\n")
    }
}
