import ZarrCore

/// The NGFF versions Tessera writes: 0.4 lives in Zarr v2 `.zattrs`, 0.5 under
/// `attributes.ome` of Zarr v3 `zarr.json`.
public enum NGFFVersion: String, Sendable {
    case v04 = "0.4"
    case v05 = "0.5"

    /// The NGFF version that goes with a Zarr format.
    public init(format: ZarrFormat) { self = format == .v2 ? .v04 : .v05 }

    /// The Zarr format an NGFF version is written in (the inverse of `init(format:)`).
    public var zarrFormat: ZarrFormat { self == .v04 ? .v2 : .v3 }
}

/// Reading and translating NGFF metadata at the level of JSON attributes, so copies
/// between Zarr formats keep images valid without modelling every NGFF field.
public enum NGFFAttributes {
    /// Attribute keys that NGFF defines at the top level in 0.4 and under `ome` in 0.5.
    public static let keys: Set<String> = ["multiscales", "omero", "labels", "image-label", "plate", "well", "bioformats2raw.layout"]
    /// NGFF objects that carry their own `version` in 0.4.
    static let versionedKeys = ["image-label", "plate", "well"]

    /// The NGFF metadata of a node, whichever version it is in: the `ome` object (0.5)
    /// or the top-level NGFF keys (0.4). Nil when the node has none.
    public static func ngff(_ attributes: [String: JSONValue]) -> [String: JSONValue]? {
        if let ome = attributes["ome"]?.objectValue { return ome }
        let found = attributes.filter { keys.contains($0.key) }
        return found.isEmpty ? nil : found
    }

    /// The NGFF version a node declares, if any.
    public static func version(_ attributes: [String: JSONValue]) -> String? {
        if let v = attributes["ome"]?["version"]?.stringValue { return v }
        guard let ngff = ngff(attributes) else { return nil }
        if let v = ngff["multiscales"]?.arrayValue?.first?["version"]?.stringValue { return v }
        for key in versionedKeys { if let v = ngff[key]?["version"]?.stringValue { return v } }
        return nil
    }

    /// The attributes rewritten for `target`: 0.4 → 0.5 gathers NGFF keys under `ome`
    /// with a single version; 0.5 → 0.4 lifts them out and versions each object.
    /// Non-NGFF attributes are kept as they are.
    public static func translate(_ attributes: [String: JSONValue], to target: NGFFVersion) -> [String: JSONValue] {
        guard let ngff = ngff(attributes) else { return attributes }
        var rest = attributes.filter { !keys.contains($0.key) && $0.key != "ome" }
        switch target {
        case .v05:
            var ome = ngff
            ome["version"] = .string(target.rawValue)
            ome = setVersion(ome, to: nil)
            rest["ome"] = .object(ome)
        case .v04:
            let lifted = setVersion(ngff.filter { $0.key != "version" }, to: target.rawValue)
            rest.merge(lifted) { _, new in new }
        }
        return rest
    }

    /// Sets (or removes, for nil) the per-object `version` fields of 0.4.
    private static func setVersion(_ ngff: [String: JSONValue], to version: String?) -> [String: JSONValue] {
        var out = ngff
        func stamp(_ value: JSONValue) -> JSONValue {
            guard var o = value.objectValue else { return value }
            o["version"] = version.map(JSONValue.string)
            return .object(o)
        }
        if let list = out["multiscales"]?.arrayValue { out["multiscales"] = .array(list.map(stamp)) }
        for key in versionedKeys { if let v = out[key] { out[key] = stamp(v) } }
        return out
    }

    /// Multiscale levels: for each dataset path of each multiscale, its axis names.
    public static func levelAxes(_ attributes: [String: JSONValue]) -> [(path: String, axes: [String])] {
        guard let multiscales = ngff(attributes)?["multiscales"]?.arrayValue else { return [] }
        var out = [(String, [String])]()
        for ms in multiscales {
            let axes = (ms["axes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue ?? $0.stringValue }
            for ds in ms["datasets"]?.arrayValue ?? [] {
                if let path = ds["path"]?.stringValue { out.append((path, axes)) }
            }
        }
        return out
    }
}
