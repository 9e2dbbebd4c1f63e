import Storage
import NIOPosix
import ZarrCore

/// The gateway's consolidated metadata: ZarrCore's `ConsolidatedMetadataBuilder` run on a
/// root's `Store`, so a reader opens a whole hierarchy in one request — `.zmetadata` for
/// a Zarr v2 group, `consolidated_metadata` inlined into a v3 group's `zarr.json`.
///
/// The walk visits nodes only (never an array's chunks), so its cost follows the number
/// of arrays and groups. That number is the store's to choose, so the walk has a budget
/// (`Limits`): past it there is no generated document, and readers fall back to reading
/// node by node, as for any store without consolidated metadata.
enum ConsolidatedMetadata {
    typealias Limits = WalkLimits

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
        return name.elementsEqual(ZarrKeys.consolidated.utf8) || name.elementsEqual(ZarrKeys.v3.utf8)
    }

    /// `.zmetadata` for the v2 group at `group` ("" for the root), or nil if there is no
    /// v2 group there or the walk is past its limits.
    static func v2(_ store: any Store, group: String, limits: Limits) async throws -> [UInt8]? {
        try await walk { try ConsolidatedMetadataBuilder.v2(store, group: group, limits: limits) }
    }

    /// The v3 group document at `group` with inline consolidated metadata added, or nil if
    /// it is not a v3 group, already carries consolidated metadata (served as stored), or
    /// the walk is past its limits.
    static func v3Inline(_ store: any Store, group: String, document stored: [UInt8], limits: Limits) async throws -> [UInt8]? {
        try await walk { try ConsolidatedMetadataBuilder.v3Inline(store, group: group, document: stored, limits: limits) }
    }

    /// Store calls block: the walk runs on NIO's blocking pool, as the gateway's other
    /// blocking reads do.
    private static func walk(_ build: @escaping @Sendable () throws -> JSONValue?) async throws -> [UInt8]? {
        try await NIOThreadPool.singleton.runIfActive {
            do { return try build()?.compactSerialized() } catch is WalkTooCostly { return nil }
        }
    }
}

extension WalkLimits {
    /// The defaults (Docs/serve.md, "Limits and timeouts"): far beyond any real image
    /// pyramid or plate (a 384-well plate with 4 fields is under 4,000 documents), well
    /// short of what would hold the server up.
    static let defaults = WalkLimits(documents: 10_000, bytes: 16 << 20, time: .seconds(2))
}
