import Foundation
import NGFF
import Storage
import ZarrCore

/// The thumbnail and quicklook written at conversion (`tessera convert --thumbnails`):
/// `{image}/.tessera-thumbnail.png` and `{image}/.tessera-quicklook.jpg`, each the preset
/// rendered with no overrides, and `{image}/.tessera-pictures.json` recording the source
/// versions (`SourceVersions`) they were drawn from. The gateway serves a stored picture
/// only for a request without parameters whose image still has those versions.
public enum StoredPictures {
    public static let recordName = StoredPictureNames.record

    public static func fileName(_ preset: RenderPreset) -> String {
        switch preset {
        case .thumbnail: return StoredPictureNames.thumbnail
        case .quicklook: return StoredPictureNames.quicklook
        }
    }

    /// Renders both presets of the NGFF image at `path` and stores them, the record last.
    /// `version` is the renderer's version the gateway also records (`renderVersion`).
    public static func write(store: any Store, path: String, rendererVersion: Int) throws {
        let image = try RenderImage.open(store: store, path: path)
        for preset in RenderPreset.allCases {
            let plan = try RenderPlan(image: image, request: try preset.request([]))
            let rendered = try Renderer.render(plan)
            try store.set(joinKey(path, fileName(preset)), rendered.bytes)
        }
        let record: JSONValue = .object(["renderer": .int(Int64(rendererVersion)),
                                         "versions": .string(try SourceVersions.of(image, store: store, path: path))])
        try store.set(joinKey(path, recordName), record.serialized())
    }

    /// The stored picture of `preset` for the image at `path`, when its record names the
    /// image's current `versions` and this renderer; nil otherwise (render instead).
    public static func read(store: any Store, path: String, preset: RenderPreset, versions: String, rendererVersion: Int) throws -> [UInt8]? {
        guard let bytes = try store.get(joinKey(path, recordName), limit: 1 << 20),
              let record = try? JSONValue.parse(bytes, key: path),
              record["renderer"]?.intValue == rendererVersion, record["versions"]?.stringValue == versions else { return nil }
        return try store.get(joinKey(path, fileName(preset)), limit: 64 << 20)
    }
}
