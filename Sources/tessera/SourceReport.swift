import Foundation
import ImageSources
import ZarrCore

/// `tessera info SOURCE`'s view of an input file: what the reader sees — the format, what
/// the reader says about the file as a whole (`SourceFile.details`), and per image its name,
/// axes, shape, data type, physical pixel sizes, the lower resolutions the file stores, and
/// (for slides) which images are associated images.
struct SourceReport {
    let file: SourceFile

    /// Whether `argument` names an input file (`file` or `file:dataset`) rather than a Zarr
    /// hierarchy (a folder, `s3://…`): a regular file that is not Zarr metadata.
    static func names(_ argument: String) -> Bool {
        guard !argument.hasPrefix("s3://") else { return false }
        let (path, _) = SourceOpener.splitDatasetPath(argument)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
        return ![".zarray", ".zgroup", ".zattrs", "zarr.json", ".zmetadata"].contains((path as NSString).lastPathComponent)
    }

    struct Image {
        var name: String
        var axes: [String]
        var shape: [Int]
        var dataType: String
        /// Per axis: the pixel size and unit, when the source gives them.
        var physical: [(axis: String, size: Double, unit: String?)]
        var storedLevels: [[Int]]
        var channels: [String]
        var associated: Bool
    }

    var images: [Image] {
        file.images.map { source in
            let d = source.description
            let physical: [(axis: String, size: Double, unit: String?)] = d.hasPhysicalSizes
                ? d.axes.enumerated().filter { $0.element.kind != .channel }.map { ($0.element.name, d.spacing[$0.offset], $0.element.unit) }
                : []
            return Image(name: d.name, axes: d.axisNames, shape: d.shape, dataType: d.dataType.rawValue, physical: physical,
                         storedLevels: source.storedLevels.map(\.description.shape),
                         channels: d.channels.enumerated().map { $0.element.name ?? "Channel \($0.offset)" },
                         associated: d.metadata["associated_image"] != nil)
        }
    }

    var text: String {
        var lines = [file.path, "  format: \(file.format.rawValue)", "  file bytes: \(ByteCount.text(file.fileBytes))"]
        for (label, value) in file.details { lines.append("  \(label): \(value)") }
        let all = images
        lines.append("  images: \(all.count)")
        for (k, image) in all.enumerated() {
            var line = "  \(k) \(image.name)\(image.associated ? " (associated image)" : ""):  axes \(image.axes.joined(separator: ","))"
                + "  shape \(dims(image.shape))  \(image.dataType)"
            if !image.physical.isEmpty {
                line += "  pixel size " + image.physical.map { "\($0.axis) \(number($0.size))\($0.unit.map { " \($0)" } ?? "")" }
                    .joined(separator: ", ")
            }
            if image.axes.contains("c") { line += "  channels \(image.channels.joined(separator: ", "))" }
            line += image.storedLevels.isEmpty ? "  stored levels: none"
                : "  stored levels: \(image.storedLevels.map(dims).joined(separator: ", "))"
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    var json: JSONValue {
        .object([
            "path": .string(file.path),
            "format": .string(file.format.rawValue),
            "file_bytes": JSONValue(file.fileBytes),
            "details": .array(file.details.map { .object(["label": .string($0.label), "value": .string($0.value)]) }),
            "images": .array(images.map { image in
                var o: [String: JSONValue] = [
                    "name": .string(image.name), "axes": .array(image.axes.map(JSONValue.string)), "shape": JSONValue(image.shape),
                    "data_type": .string(image.dataType), "channels": .array(image.channels.map(JSONValue.string)),
                    "stored_levels": .array(image.storedLevels.map { JSONValue($0) }), "associated": .bool(image.associated),
                ]
                o["physical_sizes"] = .array(image.physical.map { p in
                    .object(["axis": .string(p.axis), "size": .double(p.size), "unit": p.unit.map(JSONValue.string) ?? .null])
                })
                return .object(o)
            }),
        ])
    }

    private func dims(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }
    private func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
}
