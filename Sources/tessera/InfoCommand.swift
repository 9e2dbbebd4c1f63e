import ArgumentParser
import Foundation
import ImageSources
import NGFF
import ZarrCore

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a Zarr hierarchy (arrays, shapes, chunks, shards, codecs, NGFF levels, objects and bytes), or what Tessera's reader sees in an input file (format, images, axes, shapes, physical sizes, stored levels).",
        discussion: "With an input file (a slide, TIFF, HDF5 `file.h5:/dataset`, FITS, …) instead of a Zarr folder or s3:// prefix, prints the file's format, what the reader says about it (a slide's vendor and levels, …) and each image it holds."
    )

    @Argument(help: "A Zarr array or group, or an input file.") var path: String
    @Flag(help: "Print JSON instead of a tree.") var json = false
    @Flag(help: "Print only objects and bytes per array and in total (for huge stores): no shapes, chunks or codecs.")
    var summary = false
    @Option(help: "Seconds between progress lines on stderr while the store is listed (0: after every page).")
    var progressInterval = 1.0

    func validate() throws {
        guard progressInterval.isFinite, progressInterval >= 0 else {
            throw ValidationError("--progress-interval must be a number of seconds, 0 or more (got \(progressInterval))")
        }
    }

    func run() throws {
        try reportingErrors {
            if SourceReport.names(path) {
                let report = SourceReport(file: try SourceOpener.open(path))
                print(json ? String(decoding: report.json.serialized(), as: UTF8.self) : report.text)
                return
            }
            let location = try StoreLocation(path)
            let progress = ListingProgress(label: "info", interval: progressInterval)
            let hierarchy = try Hierarchy.discover(store: location.store, root: "") { objects, bytes in
                progress.update(objects: objects, bytes: bytes)
            }
            progress.finish(objects: hierarchy.totalObjects, bytes: hierarchy.totalBytes)
            let report = HierarchyReport(hierarchy: hierarchy, root: location.store.describe(""))
            switch (summary, json) {
            case (false, false): print(report.text)
            case (false, true): print(String(decoding: report.json.serialized(), as: UTF8.self))
            case (true, false): print(report.summaryText)
            case (true, true): print(String(decoding: report.summaryJSON.serialized(), as: UTF8.self))
            }
        }
    }
}

/// `tessera info`'s view of a hierarchy, as text or JSON.
struct HierarchyReport {
    let hierarchy: Hierarchy
    let root: String

    var json: JSONValue {
        .object([
            "path": .string(root),
            "objects": JSONValue(hierarchy.totalObjects),
            "stored_bytes": JSONValue(hierarchy.totalBytes),
            "nodes": .array(hierarchy.entries.map(nodeJSON)),
        ])
    }

    private func nodeJSON(_ e: Hierarchy.Entry) -> JSONValue {
        var o: [String: JSONValue] = [
            "path": .string(e.path), "zarr_format": JSONValue(e.node.format.rawValue),
            "objects": JSONValue(e.objectCount), "stored_bytes": JSONValue(e.storedBytes),
        ]
        if let version = NGFFAttributes.version(e.node.attributes) {
            o["ngff_version"] = .string(version)
            o["ngff_levels"] = .array(NGFFAttributes.levelAxes(e.node.attributes).map { .string($0.path) })
        }
        switch e.node {
        case .group: o["node_type"] = "group"
        case let .array(m):
            o["node_type"] = "array"
            o["shape"] = JSONValue(m.shape)
            o["data_type"] = .string(m.dataType.rawValue)
            o["fill_value"] = m.fillValue.json(m.dataType)
            if let s = m.codecs.sharding {
                o["chunks"] = JSONValue(s.innerChunkShape)
                o["shards"] = JSONValue(m.chunkShape)
            } else {
                o["chunks"] = JSONValue(m.chunkShape)
            }
            o["codecs"] = .array(m.codecs.v3Metadata)
            if let names = m.dimensionNames { o["dimension_names"] = .array(names.map { $0.map(JSONValue.string) ?? .null }) }
        }
        return .object(o)
    }

    var text: String {
        var lines = ["\(root)"]
        for e in hierarchy.entries {
            let depth = e.path.isEmpty ? 0 : e.path.split(separator: "/").count
            let indent = String(repeating: "  ", count: depth)
            let name = e.path.isEmpty ? "/" : String(e.path.split(separator: "/").last!)
            var line = "\(indent)\(name)  "
            switch e.node {
            case let .group(format, attributes):
                line += "group  Zarr v\(format.rawValue)"
                if let v = NGFFAttributes.version(attributes) {
                    let levels = NGFFAttributes.levelAxes(attributes)
                    line += "  NGFF \(v)"
                    if !levels.isEmpty { line += ", \(levels.count) levels (\(levels.map(\.path).joined(separator: ", ")))" }
                }
            case let .array(m):
                line += "array  Zarr v\(m.format.rawValue)  \(m.dataType.rawValue)  shape \(dims(m.shape))"
                if let s = m.codecs.sharding {
                    line += "  chunks \(dims(s.innerChunkShape))  shards \(dims(m.chunkShape))  codecs \(describe(s.codecs))"
                } else {
                    line += "  chunks \(dims(m.chunkShape))  codecs \(describe(m.codecs))"
                }
                // Validated metadata keeps this in range; a wrong ratio beats a trap.
                let raw = checkedProduct(m.shape + [m.dataType.size]) ?? Int.max
                line += "  \(e.objectCount) objects, \(bytes(e.storedBytes))"
                if e.storedBytes > 0 { line += String(format: " (%.2fx)", Double(raw) / Double(e.storedBytes)) }
            }
            lines.append(line)
        }
        lines.append("total: \(hierarchy.totalObjects) objects, \(bytes(hierarchy.totalBytes))")
        return lines.joined(separator: "\n")
    }

    private func dims(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }

    private func describe(_ p: CodecPipeline) -> String {
        p.v3Metadata.map { codec -> String in
            let name = codec["name"]?.stringValue ?? "?"
            guard let c = codec["configuration"]?.objectValue, name != "bytes" || c["endian"]?.stringValue != "little" else { return name }
            let inner = c.sorted { $0.key < $1.key }.compactMap { k, v -> String? in
                switch v { case let .string(s): return "\(k)=\(s)"; case .int, .uint: return "\(k)=\(v.intValue ?? 0)"; case let .array(a): return "\(k)=\(a.compactMap(\.intValue))"; default: return nil }
            }
            return "\(name)(\(inner.joined(separator: ",")))"
        }.joined(separator: " → ")
    }

    private func bytes(_ n: Int) -> String { ByteCount.text(n) }
}
