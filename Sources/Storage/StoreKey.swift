/// The one key grammar every store shares: `/`-separated segments, no leading slash, no
/// empty, `.` or `..` segment, no NUL. A key that passes cannot name anything outside a
/// store's root, whatever the store (FileStore also opens beneath its root in the kernel).
public enum StoreKey {
    /// Throws unless `key` is a valid object key.
    public static func validate(_ key: String) throws {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !key.contains("\0"),
              !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw StorageError.invalidRequest("'\(key)' is not a valid store key")
        }
    }

    /// The name prefix of a file being written (renamed into place when whole). Listings
    /// never show such files; `removeStaleTemporaries` deletes those a killed writer left.
    public static let temporaryMarker = ".tessera-tmp-"

    /// How every name Tessera writes for its own bookkeeping begins: the output mark
    /// (`.tessera-output.json`), a job's reports (`.tessera-job/`), a split image's state
    /// (`.tessera-split/`) and temporaries. No Zarr reader needs them, and they name source
    /// files, hosts and errors, so the gateway neither serves nor lists them.
    public static let bookkeepingPrefix = ".tessera"

    /// The folder, in a level of a Zarr array, of the batches recording which plain chunks
    /// have landed (Conversion's `ObjectManifest`). A local store removes it once its last
    /// batch is deleted, as nothing else is ever written there.
    public static let manifestFolder = bookkeepingPrefix + "-manifest"

    /// Whether one path segment is Tessera's bookkeeping (`bookkeepingPrefix`).
    public static func isBookkeeping(_ segment: some Collection<UInt8>) -> Bool {
        segment.starts(with: bookkeepingPrefix.utf8)
    }

    /// Whether the last segment of a name is a temporary of an unfinished write.
    public static func isTemporary(_ name: some StringProtocol) -> Bool { name.hasPrefix(temporaryMarker) }

    /// The folder part of a prefix: `"0/c/1"` → `"0/c"`, `"0/"` → `"0"`, `"zarr"` → `""`.
    static func folder(of prefix: String) -> String {
        prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
    }
}

/// Joins key segments, ignoring empty ones: `joinKey("", "0", ".zarray") == "0/.zarray"`.
public func joinKey(_ parts: String...) -> String {
    parts.flatMap { $0.split(separator: "/") }.joined(separator: "/")
}
