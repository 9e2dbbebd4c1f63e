import Foundation
import ImageSources
import NGFF
import Storage
import ZarrCore

/// What `--overwrite` (convert and copy, folder or s3://) may delete: a Zarr hierarchy
/// (its root holds Zarr metadata) or an output Tessera started and marked
/// (`OutputMark`), holding nothing but Zarr metadata, chunk/shard objects, the mark and
/// the bioformats2raw OME-XML — and never an output that is or contains an input. The
/// rule is checked on the listing, so what it lets through is exactly what is deleted:
/// nothing Tessera did not write, or could not have written, goes.
public enum OverwriteGuard {
    static let metadataNames = ZarrKeys.all

    /// Throws a refusal naming what is there unless everything under `prefix` of `store`
    /// (the output `location`, as the user named it) may be deleted; returns the keys that
    /// may be (all of them, relative to the store).
    @discardableResult
    public static func check(_ store: any Store, prefix: String = "", location: String, inputs: [String]) throws -> [String] {
        if let input = inputs.first(where: { locationContains(location, $0) }) {
            throw UsageError("refusing to --overwrite '\(location)': it is or holds the input '\(input)'; --overwrite never deletes an input")
        }
        let base = prefix.isEmpty ? "" : prefix + "/"
        try refuseUnlisted(store, prefix: prefix, location: location)
        let keys = try store.list(prefix: base).map { String($0.key.dropFirst(base.count)) }.sorted()
        guard !keys.isEmpty else { return [] }
        // Tessera's mark counts only if it is one (a stray file of that name is not).
        let marked = keys.contains(OutputMark.key) && (try? OutputMark.read(from: store, at: prefix)) != nil
        let nodes = marked ? [:] : zarrNodes(store, prefix: prefix, keys: keys)
        guard marked || nodes[""] != nil else {
            throw UsageError("refusing to --overwrite '\(location)': it is neither a Zarr hierarchy nor an output Tessera started, "
                             + "and holds \(listed(keys)); remove them yourself or choose another output")
        }
        let foreign = keys.filter { marked ? !isZarrOrTessera($0) : !belongsToHierarchy($0, nodes: nodes) }
        guard foreign.isEmpty else {
            throw UsageError("refusing to --overwrite '\(location)': besides Zarr data it holds \(listed(foreign)); "
                             + "move them out first or choose another output")
        }
        return keys.map { base + $0 }
    }

    /// Refuses a folder output holding what its listing does not show: a linked folder
    /// would take the new output's writes outside OUTPUT (into the dataset it links to),
    /// with or without --overwrite; neither it nor a device, pipe or unreadable folder is
    /// something Tessera wrote or may delete.
    public static func refuseUnlisted(_ store: any Store, prefix: String = "", location: String) throws {
        let base = prefix.isEmpty ? "" : prefix + "/"
        let odd = store.unlistedEntries(prefix: base)
        guard !odd.isEmpty else { return }
        let named = odd.map { "\($0.key.dropFirst(base.count)) (\($0.kind))" }
        throw UsageError("refusing to write to '\(location)': it holds \(listed(named)), which Tessera did not write "
                         + "and does not follow; remove them yourself or choose another output")
    }

    /// `check`, then deletes exactly the keys it checked (an object added meanwhile is
    /// not Tessera's to delete) and a killed writer's temporaries.
    public static func clear(_ store: any Store, prefix: String = "", location: String, inputs: [String]) throws {
        for key in try check(store, prefix: prefix, location: location, inputs: inputs) { try store.delete(key) }
        store.removeStaleTemporaries()
    }

    /// The folders (relative to `prefix`) whose Zarr metadata opens as a node, and whether
    /// each is an array. Metadata that does not open (a user's own `zarr.json`) is no node.
    static func zarrNodes(_ store: any Store, prefix: String, keys: [String]) -> [String: Bool] {
        var nodes = [String: Bool]()
        for folder in Hierarchy.nodePaths(keys) {
            guard let node = try? Node.open(store: store, path: joinKey(prefix, folder)) else { continue }
            if case .array = node { nodes[folder] = true } else { nodes[folder] = false }
        }
        return nodes
    }

    /// In a hierarchy Tessera did not mark: Zarr metadata, the bioformats2raw OME-XML, or
    /// a chunk key of the nearest node above it, which must be an array (v3 `c/1/2`, `c`,
    /// `c.1.2`; v2 `1.2`, `1/2`). A numbered file in a plain subfolder is not a chunk.
    static func belongsToHierarchy(_ key: String, nodes: [String: Bool]) -> Bool {
        let parts = key.split(separator: "/").map(String.init)
        guard let last = parts.last else { return false }
        // A damaged mark of Tessera's own is still its own.
        if metadataNames.contains(last) || key == OutputMark.key { return true }
        if last == "METADATA.ome.xml", parts.count >= 2, parts[parts.count - 2] == "OME" { return true }
        for depth in stride(from: parts.count - 1, through: 0, by: -1) {
            guard let isArray = nodes[parts[..<depth].joined(separator: "/")] else { continue }
            return isArray && isChunkKey(Array(parts[depth...]))
        }
        return false
    }

    private static func isChunkKey(_ parts: [String]) -> Bool {
        func numbers(_ s: String) -> Bool { !s.isEmpty && s.first != "." && s.last != "." && s.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } }
        guard let first = parts.first else { return false }
        if first == "c" { return parts.dropFirst().allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } && !$0.isEmpty } }
        if parts.count == 1, first.hasPrefix("c."), numbers(String(first.dropFirst(2))) { return true }
        return parts.allSatisfy(numbers)
    }

    /// Zarr metadata, a chunk or shard key (v3 `c/1/2`, `c`; v2 `1.2` or `1/2`), the mark,
    /// a killed run's per-block counts and chunk manifests (`BlockHistograms`,
    /// `ObjectManifest`), the stored statistics (`ImageStatistics`) and pictures (`StoredPictureNames`), or `OME/METADATA.ome.xml` — by
    /// name alone: in an output Tessera marked, chunks of a killed run may precede their
    /// array's metadata.
    static func isZarrOrTessera(_ key: String) -> Bool {
        let parts = key.split(separator: "/")
        guard let last = parts.last.map(String.init) else { return false }
        if metadataNames.contains(last) || last == OutputMark.key || BlockHistograms.isKeyName(last) || last == ObjectManifest.name
            || last == ImageStatistics.fileName || StoredPictureNames.all.contains(last)
            || ObjectManifest.isBatchKey(key) { return true }
        if last == "METADATA.ome.xml", parts.count >= 2, parts[parts.count - 2] == "OME" { return true }
        if last == "c" { return true }
        return !last.isEmpty && last.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } && last.first != "."
    }

    private static func listed(_ keys: [String]) -> String {
        let shown = keys.prefix(5).joined(separator: ", ")
        return keys.count > 5 ? "\(shown) and \(keys.count - 5) more" : shown
    }

    /// Whether `inner` (an input: a path, `path:/dataset`, or an s3:// URL) is `outer` or
    /// lies inside it. Local paths are compared with symlinks resolved, and by device and
    /// inode (bind mounts).
    public static func locationContains(_ outer: String, _ inner: String) -> Bool {
        let outerS3 = outer.hasPrefix("s3://"), innerS3 = inner.hasPrefix("s3://")
        guard outerS3 == innerS3 else { return false }
        let (o, i) = outerS3 ? (s3Path(outer), s3Path(inner)) : (resolvedPath(outer), resolvedInput(inner))
        if o == "/" || i == o || i.hasPrefix(o + "/") { return true }
        return !outerS3 && isSameFolder(o, asOneAbove: i)
    }

    /// Whether `folder` is the very folder (device and inode) of `path` or of one of its
    /// parents: a bind mount shows one folder at two paths that resolving symlinks
    /// cannot relate.
    private static func isSameFolder(_ folder: String, asOneAbove path: String) -> Bool {
        var f = stat()
        guard stat(folder, &f) == 0, f.st_mode & S_IFMT == S_IFDIR else { return false }
        var current = path
        while !current.isEmpty {
            var st = stat()
            if stat(current, &st) == 0, st.st_dev == f.st_dev, st.st_ino == f.st_ino { return true }
            guard current != "/", let slash = current.lastIndex(of: "/") else { return false }
            current = slash == current.startIndex ? "/" : String(current[..<slash])
        }
        return false
    }

    private static func s3Path(_ url: String) -> String {
        url.dropFirst("s3://".count).split(separator: "/").joined(separator: "/")
    }

    /// An input may carry an HDF5 dataset after a colon: the file is what counts.
    private static func resolvedInput(_ input: String) -> String {
        resolvedPath(SourceOpener.splitDatasetPath(input).0)
    }
}
