import Foundation
import ZarrCore

/// What `--overwrite` (convert and copy, folder or s3://) may delete: a Zarr hierarchy
/// (its root holds Zarr metadata) or an output Tessera started and marked
/// (`OutputMark`), holding nothing but Zarr metadata, chunk/shard objects, the mark and
/// the bioformats2raw OME-XML — and never an output that is or contains an input. The
/// rule is checked on the listing, so what it lets through is exactly what is deleted:
/// nothing Tessera did not write, or could not have written, goes.
public enum OverwriteGuard {
    static let metadataNames: Set<String> = ["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]

    /// Throws a refusal naming what is there unless everything under `prefix` of `store`
    /// (the output `location`, as the user named it) may be deleted.
    public static func check(_ store: any Store, prefix: String = "", location: String, inputs: [String]) throws {
        if let input = inputs.first(where: { locationContains(location, $0) }) {
            throw UsageError("refusing to --overwrite '\(location)': it is or holds the input '\(input)'; --overwrite never deletes an input")
        }
        let base = prefix.isEmpty ? "" : prefix + "/"
        let keys = try store.list(prefix: base).map { String($0.key.dropFirst(base.count)) }.sorted()
        guard !keys.isEmpty else { return }
        let rooted = keys.contains { metadataNames.contains($0) && $0 != ".zattrs" && $0 != ".zmetadata" } || keys.contains(OutputMark.key)
        guard rooted else {
            throw UsageError("refusing to --overwrite '\(location)': it is neither a Zarr hierarchy nor an output Tessera started, "
                             + "and holds \(listed(keys)); remove them yourself or choose another output")
        }
        let foreign = keys.filter { !isZarrOrTessera($0) }
        guard foreign.isEmpty else {
            throw UsageError("refusing to --overwrite '\(location)': besides Zarr data it holds \(listed(foreign)); "
                             + "move them out first or choose another output")
        }
    }

    /// `check`, then deletes everything under `prefix` (and a killed writer's temporaries).
    public static func clear(_ store: any Store, prefix: String = "", location: String, inputs: [String]) throws {
        try check(store, prefix: prefix, location: location, inputs: inputs)
        try store.deleteAll(prefix: prefix.isEmpty ? "" : prefix + "/")
        _ = (store as? FileStore)?.removeStaleTemporaries()
    }

    /// Zarr metadata, a chunk or shard key (v3 `c/1/2`, `c`; v2 `1.2` or `1/2`), the mark,
    /// or `OME/METADATA.ome.xml`.
    static func isZarrOrTessera(_ key: String) -> Bool {
        let parts = key.split(separator: "/")
        guard let last = parts.last.map(String.init) else { return false }
        if metadataNames.contains(last) || last == OutputMark.key { return true }
        if last == "METADATA.ome.xml", parts.count >= 2, parts[parts.count - 2] == "OME" { return true }
        if last == "c" { return true }
        return !last.isEmpty && last.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } && last.first != "."
    }

    private static func listed(_ keys: [String]) -> String {
        let shown = keys.prefix(5).joined(separator: ", ")
        return keys.count > 5 ? "\(shown) and \(keys.count - 5) more" : shown
    }

    /// Whether `inner` (an input: a path, `path:/dataset`, or an s3:// URL) is `outer` or
    /// lies inside it. Local paths are compared with symlinks resolved.
    public static func locationContains(_ outer: String, _ inner: String) -> Bool {
        let outerS3 = outer.hasPrefix("s3://"), innerS3 = inner.hasPrefix("s3://")
        guard outerS3 == innerS3 else { return false }
        let (o, i) = outerS3 ? (s3Path(outer), s3Path(inner)) : (resolved(outer), resolvedInput(inner))
        if o == "/" { return true }
        return i == o || i.hasPrefix(o + "/")
    }

    private static func s3Path(_ url: String) -> String {
        url.dropFirst("s3://".count).split(separator: "/").joined(separator: "/")
    }

    private static func resolved(_ path: String) -> String {
        if let p = realpath(path, nil) { defer { free(p) }; return String(cString: p) }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// An input may carry an HDF5 dataset after a colon.
    private static func resolvedInput(_ input: String) -> String {
        if FileManager.default.fileExists(atPath: input) { return resolved(input) }
        if let colon = input.lastIndex(of: ":"), FileManager.default.fileExists(atPath: String(input[..<colon])) {
            return resolved(String(input[..<colon]))
        }
        return resolved(input)
    }
}
