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

    /// Discovers every array and group under `root` (the root must be a node itself).
    public static func discover(store: any Store, root: String) throws -> Hierarchy {
        _ = try Node.open(store: store, path: root)
        let prefix = root.isEmpty ? "" : root + "/"
        let listing = try store.list(prefix: prefix)
        let nodePaths = Self.nodePaths(listing.map { String($0.key.dropFirst(prefix.count)) }).union([""])
        // Attribute every object to the deepest node that contains it.
        var counts = [String: (Int, Int)]()
        for entry in listing {
            let rel = String(entry.key.dropFirst(prefix.count))
            var owner = rel.split(separator: "/").dropLast().map(String.init)
            while !owner.isEmpty && !nodePaths.contains(owner.joined(separator: "/")) { owner.removeLast() }
            let key = owner.joined(separator: "/")
            let (n, b) = counts[key] ?? (0, 0)
            counts[key] = (n + 1, saturatingAdd(b, max(0, entry.size)))
        }
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
