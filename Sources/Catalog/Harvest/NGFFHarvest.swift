import ZarrCore

/// The harvest of NGFF that Tessera did not convert (`tessera catalog add`; Docs/catalog.md,
/// "Adding existing NGFF"): there is no source file to read, so what the NGFF itself holds
/// becomes the `MetadataFlattener` input, in the same typed rows as a conversion's harvest:
/// - scope `ngff`: `version`, `name`, `axes` (names), `units`, `types`, `scale` of level 0,
///   `levels` (their paths), and `omero` (channels, windows: members become `omero.…` keys);
/// - scope `level{N}`: `path`, `shape`, `dtype`, `chunks` of each level's array;
/// - the OME-XML at `OME/METADATA.ome.xml` when present, flattened as the OME-TIFF harvest
///   does (`ome/Image[i]`, … scopes, given by the caller);
/// - scope `tessera`: Tessera's own `tessera` attribute when present (its members as keys).
public enum NGFFHarvest {
    public struct Level: Sendable {
        public var path: String
        public var shape: [Int]
        public var dataType: String
        public var chunks: [Int]
        public init(path: String, shape: [Int], dataType: String, chunks: [Int]) {
            self.path = path; self.shape = shape; self.dataType = dataType; self.chunks = chunks
        }
    }

    /// The image's NGFF attributes whichever version wrote them: 0.5 nests them under `ome`.
    public static func imageAttributes(_ attributes: [String: JSONValue]) -> [String: JSONValue] {
        if let ome = attributes["ome"]?.objectValue, ome["multiscales"] != nil { return ome }
        return attributes
    }

    /// Whether a group's attributes make it an NGFF image.
    public static func isImage(_ attributes: [String: JSONValue]) -> Bool {
        imageAttributes(attributes)["multiscales"]?.arrayValue?.isEmpty == false
    }

    /// Whether a group is a bioformats2raw collection root (its images are `0/`, `1/`, …).
    public static func isCollection(_ attributes: [String: JSONValue]) -> Bool {
        attributes["bioformats2raw.layout"] != nil || attributes["ome"]?["bioformats2raw.layout"] != nil
    }

    /// The level paths of the image's first multiscale, in order.
    public static func levelPaths(_ attributes: [String: JSONValue]) -> [String] {
        let multiscale = imageAttributes(attributes)["multiscales"]?.arrayValue?.first
        return (multiscale?["datasets"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }
    }

    /// Level 0's description (shape, axis names, dtype, physical pixel size with units).
    public static func dimensions(_ attributes: [String: JSONValue], levels: [Level]) -> Dimensions? {
        guard let level0 = levels.first else { return nil }
        let multiscale = imageAttributes(attributes)["multiscales"]?.arrayValue?.first
        let axes = multiscale?["axes"]?.arrayValue ?? []
        let names = axes.enumerated().map { i, a in a["name"]?.stringValue ?? a.stringValue ?? "dim\(i)" }
        let scale = scale0(multiscale)
        let physical: [PhysicalSize?] = level0.shape.indices.map { i in
            guard i < scale.count, let size = scale[i] else { return nil }
            return PhysicalSize(size: size, unit: i < axes.count ? axes[i]["unit"]?.stringValue : nil)
        }
        return Dimensions(shape: level0.shape.map(Int64.init), axes: names.count == level0.shape.count ? names : [],
                          dataType: level0.dataType, physical: physical)
    }

    /// The flattener's input (`{"format": "ngff", "scopes": […]}`).
    public static func metadata(_ attributes: [String: JSONValue], levels: [Level], omeScopes: [JSONValue]) -> JSONValue {
        let image = imageAttributes(attributes)
        let multiscale = image["multiscales"]?.arrayValue?.first
        let axes = multiscale?["axes"]?.arrayValue ?? []
        var ngff = [JSONValue]()
        func entry(_ key: String, _ value: JSONValue?) {
            if let value { ngff.append(.array([.string(key), value])) }
        }
        entry("version", image["version"] ?? multiscale?["version"])
        entry("name", multiscale?["name"])
        if !axes.isEmpty {
            entry("axes", .array(axes.map { $0["name"] ?? $0 }))
            entry("units", .array(axes.map { $0["unit"] ?? .null }))
            entry("types", .array(axes.map { $0["type"] ?? .null }))
        }
        let scale = scale0(multiscale)
        if !scale.isEmpty { entry("scale", .array(scale.map { $0.map(JSONValue.double) ?? .null })) }
        entry("levels", .array(levels.map { .string($0.path) }))
        entry("omero", image["omero"])
        var scopes: [JSONValue] = [.object(["scope": "ngff", "entries": .array(ngff)])]
        for (n, level) in levels.enumerated() {
            scopes.append(.object(["scope": .string("level\(n)"), "entries": .array([
                .array(["path", .string(level.path)]),
                .array(["shape", .array(level.shape.map { .int(Int64($0)) })]),
                .array(["dtype", .string(level.dataType)]),
                .array(["chunks", .array(level.chunks.map { .int(Int64($0)) })]),
            ])]))
        }
        scopes += omeScopes
        if let tessera = attributes["tessera"]?.objectValue ?? attributes["ome"]?["tessera"]?.objectValue {
            scopes.append(.object(["scope": "tessera", "entries": .array(tessera.sorted { $0.key < $1.key }.map { .array([.string($0.key), $0.value]) })]))
        }
        return .object(["format": "ngff", "scopes": .array(scopes)])
    }

    /// Level 0's `scale` transformation (nil per axis where it is not a number).
    private static func scale0(_ multiscale: JSONValue?) -> [Double?] {
        let level0 = multiscale?["datasets"]?.arrayValue?.first
        let transforms = level0?["coordinateTransformations"]?.arrayValue ?? []
        guard let scale = transforms.first(where: { $0["type"]?.stringValue == "scale" })?["scale"]?.arrayValue else { return [] }
        return scale.map { $0.doubleValue }
    }
}
