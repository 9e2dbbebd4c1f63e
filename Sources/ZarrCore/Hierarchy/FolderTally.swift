import Storage

/// Objects and bytes per folder of a listing, gathered a page at a time, and the folders
/// that hold a node's metadata: what `Hierarchy.discover` needs from a listing, in memory
/// that follows the number of folders, never the number of objects (a folder of a
/// million chunks is one entry here).
struct FolderTally {
    /// Folder (relative to the listed prefix, "" for the prefix itself) → objects, bytes.
    private(set) var folders = [String: (objects: Int, bytes: Int)]()
    /// The folders holding `zarr.json`, `.zarray` or `.zgroup`.
    private(set) var nodePaths = Set<String>()
    private(set) var objects = 0
    // Sizes come from a listing, which a server can fill with anything: totals saturate.
    private(set) var bytes = 0

    /// The last folder seen, as in its key and as a node path: a listing gives a folder's
    /// objects together, so most keys skip splitting their folder's path again.
    private var lastFolder: (raw: Substring, path: String) = ("", "")

    /// Counts one page of a listing of `prefix`.
    mutating func add(_ page: [StoreEntry], prefix: String) {
        for entry in page {
            let rel = entry.key.dropFirst(prefix.count)
            let slash = rel.utf8.lastIndex(of: UInt8(ascii: "/"))
            let name = slash.map { rel[rel.index(after: $0)...] } ?? rel
            let folder: String
            if name.isEmpty {
                // A key ending in "/" (empty segments never count): split it whole.
                let parts = rel.split(separator: "/")
                folder = parts.dropLast().joined(separator: "/")
                if let last = parts.last, ZarrKeys.nodeDocuments.contains(String(last)) { nodePaths.insert(folder) }
            } else {
                let raw = slash.map { rel[..<$0] } ?? ""
                if raw != lastFolder.raw { lastFolder = (raw, raw.split(separator: "/").joined(separator: "/")) }
                folder = lastFolder.path
                if ZarrKeys.nodeDocuments.contains(String(name)) { nodePaths.insert(folder) }
            }
            let size = max(0, entry.size)
            let (n, b) = folders[folder] ?? (0, 0)
            folders[folder] = (n + 1, saturatingAdd(b, size))
            objects += 1
            bytes = saturatingAdd(bytes, size)
        }
    }

    /// Objects and bytes per node of `nodes`: each folder's go to the deepest node that
    /// contains it (a node's own folder included); what lies under no node but the root
    /// goes to the root ("").
    func perNode(_ nodes: Set<String>) -> [String: (objects: Int, bytes: Int)] {
        var out = [String: (objects: Int, bytes: Int)]()
        for (folder, tally) in folders {
            var owner = folder.split(separator: "/")
            while !owner.isEmpty && !nodes.contains(owner.joined(separator: "/")) { owner.removeLast() }
            let key = owner.joined(separator: "/")
            let (n, b) = out[key] ?? (0, 0)
            out[key] = (saturatingAdd(n, tally.objects), saturatingAdd(b, tally.bytes))
        }
        return out
    }
}
