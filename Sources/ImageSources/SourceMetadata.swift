import ZarrCore

/// The one call the catalogue's harvest uses: every key/value the readers saw while opening
/// a file, in `MetadataFlattener`'s input form (Docs/catalog.md, "Harvest"). Nothing here
/// reads the file again: FITS (every HDU's cards) and HDF5 (every object's attributes) fill
/// `SourceFile.harvestMetadata` while opening; the other readers' metadata is taken from
/// what their images already carry — a slide's OpenSlide properties (scope `openslide`, all
/// text), and for TIFF, HDF4, DICOM and DM each image's metadata (scope `image{N}`).
public enum SourceMetadata {
    public static func of(_ file: SourceFile) -> JSONValue {
        if let metadata = file.harvestMetadata { return metadata }
        var scopes = [JSONValue]()
        if file.format == .slide, let properties = file.images.first?.description.metadata["properties"]?.objectValue {
            scopes.append(scope("openslide", properties, textual: true))
        } else {
            for (i, image) in file.images.enumerated() {
                guard let members = image.description.metadata.objectValue, !members.isEmpty else { continue }
                scopes.append(scope("image\(i)", members, textual: false))
            }
        }
        return .object(["format": .string(file.format.rawValue), "scopes": .array(scopes)])
    }

    static func scope(_ name: String, _ members: [String: JSONValue], textual: Bool) -> JSONValue {
        let entries = members.keys.sorted().compactMap { key in members[key].map { JSONValue.array([.string(key), $0]) } }
        return .object(["scope": .string(name), "entries": .array(entries), "textual": .bool(textual)])
    }
}
