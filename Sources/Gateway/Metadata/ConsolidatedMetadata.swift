import Foundation

/// Consolidated metadata built from what a root stores, so a reader opens a whole
/// hierarchy in one request: `.zmetadata` for a Zarr v2 group, and `consolidated_metadata`
/// inlined into a v3 group's `zarr.json` (the form zarr-python writes).
///
/// The walk visits nodes only: it reads each folder's metadata documents and descends
/// into groups' subfolders, never into an array's chunks, so its cost follows the number
/// of arrays and groups, not of chunks. That number is the store's to choose, so the walk
/// has a budget (`Limits`): past it there is no generated document, and readers fall back
/// to reading node by node, as for any store without consolidated metadata.
enum ConsolidatedMetadata {
    /// What one generated document may cost: metadata documents opened (found or not),
    /// bytes read from them, and time.
    struct Limits: Sendable {
        var documents: Int
        var bytes: Int
        var time: Duration
        /// No single document larger than this is read (nor copied into an answer).
        var documentBytes: Int { min(bytes, 1 << 20) }

        /// The defaults (Docs/serve.md, "Limits and timeouts"): far beyond any real image
        /// pyramid or plate (a 384-well plate with 4 fields is under 4,000 documents),
        /// well short of what would hold the server up.
        static let defaults = Limits(documents: 10_000, bytes: 16 << 20, time: .seconds(2))
    }

    /// Why a walk stopped; the document is then not generated.
    struct TooCostly: Error, CustomStringConvertible {
        let description: String
    }

    /// A walk's spending against its limits.
    struct Budget {
        let limits: Limits
        let deadline: ContinuousClock.Instant
        var documents = 0
        var bytes = 0

        init(_ limits: Limits) {
            self.limits = limits
            deadline = .now + limits.time
        }

        mutating func open() throws {
            documents += 1
            if documents > limits.documents { throw TooCostly(description: "more than \(limits.documents) metadata documents") }
            if ContinuousClock.now > deadline { throw TooCostly(description: "longer than \(limits.time)") }
        }

        mutating func read(_ size: Int, key: String) throws {
            if size > limits.documentBytes { throw TooCostly(description: "'\(key)' has \(size) bytes") }
            bytes += size
            if bytes > limits.bytes { throw TooCostly(description: "more than \(limits.bytes) bytes of metadata") }
        }
    }

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
    static func v2(_ source: any ObjectSource, group: String, limits: Limits) async throws -> [UInt8]? {
        var budget = Budget(limits)
        var entries: [(String, Any)] = []
        do {
            guard let zgroup = try await document(source, joinPath(group, ".zgroup"), &budget) else { return nil }
            entries.append((".zgroup", zgroup))
            if let attrs = try await document(source, joinPath(group, ".zattrs"), &budget) { entries.append((".zattrs", attrs)) }
            try await walkV2(source, group: group, relative: "", into: &entries, &budget)
        } catch is TooCostly {
            return nil
        }
        var metadata = [String: Any]()
        for (k, v) in entries { metadata[k] = v }
        return try serialize(["metadata": metadata, "zarr_consolidated_format": 1])
    }

    private static func walkV2(_ source: any ObjectSource, group: String, relative: String, into entries: inout [(String, Any)],
                               _ budget: inout Budget) async throws {
        guard let listing = try await source.listFolder(joinPath(group, relative)) else { return }
        for child in listing.folders {
            let rel = joinPath(relative, child)
            let path = joinPath(group, rel)
            if let array = try await document(source, joinPath(path, ".zarray"), &budget) {
                entries.append((rel + "/.zarray", array))
                if let attrs = try await document(source, joinPath(path, ".zattrs"), &budget) { entries.append((rel + "/.zattrs", attrs)) }
            } else if let g = try await document(source, joinPath(path, ".zgroup"), &budget) {
                entries.append((rel + "/.zgroup", g))
                if let attrs = try await document(source, joinPath(path, ".zattrs"), &budget) { entries.append((rel + "/.zattrs", attrs)) }
                try await walkV2(source, group: group, relative: rel, into: &entries, &budget)
            }
        }
    }

    /// The v3 group document at `group` with inline consolidated metadata added, or nil if
    /// it is not a v3 group or already carries consolidated metadata (served as stored).
    static func v3Inline(_ source: any ObjectSource, group: String, document stored: [UInt8], limits: Limits) async throws -> [UInt8]? {
        guard var root = try? JSONSerialization.jsonObject(with: Data(stored)) as? [String: Any],
              root["node_type"] as? String == "group", root["zarr_format"] as? Int == 3 else { return nil }
        if let existing = root["consolidated_metadata"], !(existing is NSNull) { return nil }
        var metadata = [String: Any]()
        var budget = Budget(limits)
        do {
            try budget.read(stored.count, key: joinPath(group, "zarr.json"))
            try await walkV3(source, group: group, relative: "", into: &metadata, &budget)
        } catch is TooCostly {
            return nil
        }
        root["consolidated_metadata"] = ["kind": "inline", "must_understand": false, "metadata": metadata] as [String: Any]
        return try serialize(root)
    }

    private static func walkV3(_ source: any ObjectSource, group: String, relative: String, into metadata: inout [String: Any],
                               _ budget: inout Budget) async throws {
        guard let listing = try await source.listFolder(joinPath(group, relative)) else { return }
        for child in listing.folders {
            let rel = joinPath(relative, child)
            guard let node = try await document(source, joinPath(group, rel, "zarr.json"), &budget) as? [String: Any],
                  node["zarr_format"] as? Int == 3 else { continue }
            var entry = node
            if node["node_type"] as? String == "group" {
                // Nested groups are listed flat under their relative path, as zarr-python does.
                entry["consolidated_metadata"] = NSNull()
                metadata[rel] = entry
                try await walkV3(source, group: group, relative: rel, into: &metadata, &budget)
            } else if node["node_type"] as? String == "array" {
                metadata[rel] = entry
            }
        }
    }

    /// The parsed document under `key`, or nil; its size is checked against the budget
    /// before anything is read.
    private static func document(_ source: any ObjectSource, _ key: String, _ budget: inout Budget) async throws -> Any? {
        try budget.open()
        guard let object = try await source.open(key) else { return nil }
        try budget.read(object.size, key: key)
        let bytes = try await object.readAll()
        return try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    private static func serialize(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func joinPath(_ parts: String...) -> String {
        parts.filter { !$0.isEmpty }.joined(separator: "/")
    }
}
