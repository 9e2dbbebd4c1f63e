import Foundation
import ZarrCore

/// Opens a Gatan DigitalMicrograph DM3/DM4 file: every image of its ImageList except
/// the thumbnails (see `DMImageList.images`), with calibrations as physical sizes.
enum DMOpener {
    static func open(path: String) throws -> SourceFile {
        let bytes = try DMFileBytes(path: path)
        let document: DMDocument
        let entries: [DMImageEntry]
        let thumbnails: [Int]
        do {
            document = try DMParser.parse(bytes)
            (entries, thumbnails) = try DMImageList.images(in: document)
        } catch let error as DMParseError {
            throw SourceError(path, error.description)
        }
        let stem = SourceOpener.stem(path)
        let images: [any ImageSource] = try entries.map { entry in
            let name = entries.count == 1 ? stem : "\(stem)_\(entry.name.flatMap { $0.isEmpty ? nil : $0 } ?? String(entry.index))"
            return DMImage(file: bytes, entry: entry, littleEndian: document.littleEndian,
                           description: try describe(entry, document: document, name: name, path: path))
        }
        var details: [(label: String, value: String)] = [
            ("DM version", "DM\(document.version)"),
            ("byte order", document.littleEndian ? "little-endian" : "big-endian"),
            ("tags", String(document.tagCount)),
        ]
        if !thumbnails.isEmpty { details.append(("thumbnails skipped", thumbnails.map(String.init).joined(separator: ", "))) }
        for entry in entries {
            let dims = entry.dimensions.map(String.init).joined(separator: " × ")
            details.append(("image \(entry.index)", "\(entry.name ?? "") \(DMImageType.name(entry.dataType)) \(dims) (x first)"))
        }
        return SourceFile(path: path, format: .dm, images: images, fileBytes: bytes.count, details: details)
    }

    static func describe(_ entry: DMImageEntry, document: DMDocument, name: String, path: String) throws -> ImageDescription {
        guard let dataType = DMImage.dataType(entry.dataType) else {
            throw SourceError(path, DMParseError.image(entry.index, "has data type \(entry.dataType): unsupported data type").description)
        }
        // Dimensions run x, y, z; NGFF (and C order) wants z, y, x.
        let spatial = Array(["x", "y", "z"].prefix(entry.dimensions.count))
        var names = spatial.reversed() as [String]
        var shape = entry.dimensions.reversed() as [Int]
        var spacing = shape.map { _ in 1.0 }, origin = shape.map { _ in 0.0 }
        var axes = names.map { ImageAxis(name: $0) }
        var physical = false
        for (k, axis) in names.enumerated() {
            let calibration = entry.calibrations[spatial.count - 1 - k]
            let unit = lengthUnit(calibration.units)
            // Only lengths (and unitless scales) place pixels in space; reciprocal space
            // (1/nm), energy (eV) and the like stay in the metadata only.
            guard unit != nil || calibration.units.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            axes[k].unit = unit
            spacing[k] = abs(calibration.scale)
            origin[k] = -calibration.origin * calibration.scale
            if unit != nil { physical = true }
        }
        var channels = [ChannelInfo]()
        if DMImageType.isRGB(entry.dataType) {
            names.insert("c", at: 0)
            axes.insert(ImageAxis(name: "c"), at: 0)
            shape.insert(3, at: 0)
            spacing.insert(1, at: 0)
            origin.insert(0, at: 0)
            channels = ChannelInfo.rgb
        }
        var readBlock = shape.map { _ in 1 }
        readBlock[shape.count - 1] = shape[shape.count - 1]
        if channels.count == 3 { readBlock[0] = 3 }
        return ImageDescription(name: name, axes: axes, shape: shape, dataType: dataType, spacing: spacing, origin: origin,
                                channels: channels, metadata: DMMetadata.json(entry, document: document, axes: Array(spatial)),
                                readBlock: readBlock, hasPhysicalSizes: physical)
    }

    /// DM length units as NGFF unit names (DM writes `um` or `µm`, `A` or `Å` for ångström).
    /// Swift compares strings by canonical equivalence, so the ångström sign U+212B finds
    /// the key `Å` (U+00C5); the micro sign U+00B5 and Greek mu U+03BC are distinct.
    static let lengthUnits = ["m": "meter", "cm": "centimeter", "mm": "millimeter", "um": "micrometer",
                              "\u{00B5}m": "micrometer", "\u{03BC}m": "micrometer", "nm": "nanometer", "pm": "picometer",
                              "fm": "femtometer", "A": "angstrom", "\u{00C5}": "angstrom", "angstrom": "angstrom"]

    static func lengthUnit(_ units: String) -> String? { lengthUnits[units.trimmingCharacters(in: .whitespaces)] }
}
