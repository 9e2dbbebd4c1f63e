import Storage

/// Every node of a hierarchy found by one listing of the store, with the objects and
/// bytes stored under each array — what `tessera info` and `tessera copy` walk.
public struct Hierarchy: Sendable {
    public struct Entry: Sendable {
        /// Path relative to the hierarchy's root ("" for the root itself).
        public var path: String
        public var node: Node
        /// Objects and bytes stored under this node but not under a child node.
        public var objectCount: Int
        public var storedBytes: Int
    }

    public var entries: [Entry]

    // Sizes come from a listing, which a server can fill with anything: totals saturate.
    public var totalObjects: Int { entries.reduce(0) { saturatingAdd($0, $1.objectCount) } }
    public var totalBytes: Int { entries.reduce(0) { saturatingAdd($0, $1.storedBytes) } }

    /// The folders among `keys` (relative to a hierarchy's root) that hold a node's
    /// metadata (`zarr.json`, `.zarray`, `.zgroup`); "" for the root.
    public static func nodePaths(_ keys: [String]) -> Set<String> {
        var paths = Set<String>()
        for key in keys {
            let parts = key.split(separator: "/")
            guard let last = parts.last, ZarrKeys.nodeDocuments.contains(String(last)) else { continue }
            paths.insert(parts.dropLast().joined(separator: "/"))
        }
        return paths
    }

    /// Discovers every array and group under `root` (the root must be a node itself)
    /// from one listing, walked a page at a time: memory follows the number of folders,
    /// not of objects. `progress` hears the objects and bytes listed so far after each page.
    public static func discover(store: any Store, root: String,
                                progress: ((_ objects: Int, _ bytes: Int) -> Void)? = nil) throws -> Hierarchy {
        _ = try Node.open(store: store, path: root)
        let prefix = root.isEmpty ? "" : root + "/"
        var tally = FolderTally()
        try store.listPages(prefix: prefix) { page in
            tally.add(page, prefix: prefix)
            progress?(tally.objects, tally.bytes)
        }
        let nodePaths = tally.nodePaths.union([""])
        let counts = tally.perNode(nodePaths)
        var entries = [Entry]()
        for path in nodePaths.sorted(by: pathOrder) {
            let node = try Node.open(store: store, path: joinKey(root, path))
            let (n, b) = counts[path] ?? (0, 0)
            entries.append(Entry(path: path, node: node, objectCount: n, storedBytes: b))
        }
        return Hierarchy(entries: entries)
    }
}

/// Orders paths parents first, then numerically where segments are numbers ("2" < "10"),
/// so pyramid levels list as 0, 1, 2, ... 10.
func pathOrder(_ a: String, _ b: String) -> Bool {
    let x = a.split(separator: "/"), y = b.split(separator: "/")
    for (p, q) in zip(x, y) where p != q {
        if let i = Int(p), let j = Int(q) { return i < j }
        return p < q
    }
    return x.count < y.count
}
