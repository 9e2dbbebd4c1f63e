import CHDF4
import Foundation
import ZarrCore

/// Opens `file.hdf[:NAME or :INDEX]`: one named SDS, or every image-like SDS of the file
/// (2 to 5 dimensions, integer or float samples, not a dimension scale) when none is
/// named. Keeps file, SDS and dimension attributes, calibration and fill value as
/// source metadata.
enum HDF4Opener {
    static func open(path: String, dataset requested: String?, axes axisOption: String?) throws -> SourceFile {
        guard FileManager.default.isReadableFile(atPath: path) else { throw SourceError(path, "cannot be opened for reading") }
        let file = try HDF4File(path: path)
        let (datasets, fileAttributes) = try HDF4Library.serialized {
            let listing = try HDF4Catalog.list(file)
            return (listing.datasets, HDF4Attributes.read(file.id, count: listing.fileAttributeCount))
        }
        let chosen: [HDF4DatasetInfo]
        if let requested {
            let info = try select(requested, in: datasets, path: path)
            if let reason = info.notImageReason { throw SourceError(path, "SDS '\(info.name)' \(reason)") }
            chosen = [info]
        } else {
            chosen = datasets.filter { $0.notImageReason == nil }
            guard !chosen.isEmpty else {
                let listing = datasets.isEmpty ? "it holds no SDS" : "it holds: " + datasets.map(\.summary).joined(separator: ", ")
                throw SourceError(path, "the HDF4 file has no image SDS (2 to 5 dimensions of integers or floats); \(listing)")
            }
        }
        let stem = SourceOpener.stem(path)
        var images = [HDF4Image]()
        var compression = [String]()
        for info in chosen {
            let (image, storage) = try HDF4ImageBuilder.image(
                info, file: file, name: chosen.count > 1 ? "\(stem)_\(info.name)" : stem,
                fileAttributes: fileAttributes, axisOption: axisOption)
            images.append(image)
            compression.append(chosen.count > 1 ? "\(info.name): \(storage)" : storage.description)
        }
        let details: [(label: String, value: String)] = [
            ("datasets", chosen.map(\.summary).joined(separator: ", ")),
            ("compression", compression.joined(separator: "; ")),
        ]
        return SourceFile(path: path, format: .hdf4, images: images, fileBytes: SourceOpener.fileSize(path), details: details)
    }

    /// The SDS `FILE:NAME` or `FILE:INDEX` names (a leading `/` is ignored: HDF4 has no
    /// groups of SDS). A name wins over an index; several SDS of one name must be named
    /// by index.
    static func select(_ requested: String, in datasets: [HDF4DatasetInfo], path: String) throws -> HDF4DatasetInfo {
        let name = requested.hasPrefix("/") ? String(requested.dropFirst()) : requested
        let named = datasets.filter { $0.name == name }
        if named.count == 1 { return named[0] }
        if named.count > 1 {
            throw SourceError(path, "holds \(named.count) SDS named '\(name)'; name one by its index (\(named.map { String($0.index) }.joined(separator: ", ")))")
        }
        if let index = Int(name), let info = datasets.first(where: { Int($0.index) == index }) { return info }
        let listing = datasets.isEmpty ? "it holds no SDS"
            : "it holds: " + datasets.map { "\($0.index) \($0.summary)" }.joined(separator: ", ")
        throw SourceError(path, "has no SDS named '\(name)'; \(listing)")
    }
}
