import ZarrCore

/// OME-NGFF 0.5 attributes rewritten as 0.4, for the Zarr v2 view (`V2ViewStore`).
///
/// 0.5 wraps the NGFF metadata of a node in one `ome` object that carries the version
/// (`{"ome": {"version": "0.5", "multiscales": [...], "omero": {...}}}`); 0.4 has the
/// same objects at the top level of `.zattrs`, and the version inside each of
/// `multiscales`, `plate`, `well` and `image-label` (`"version": "0.4"`). Everything else
/// (axes, datasets, transforms, omero channels, label lists) has the same form in both.
enum NGFF04Attributes {
    /// The objects that carry their own `version` in 0.4.
    static let versioned: Set<String> = ["multiscales", "plate", "well", "image-label"]

    /// `attributes` as 0.4 readers expect them; attributes without an `ome` object are
    /// returned as they are (not NGFF 0.5).
    static func converted(_ attributes: [String: JSONValue]) -> [String: JSONValue] {
        guard let ome = attributes["ome"]?.objectValue else { return attributes }
        var out = attributes
        out["ome"] = nil
        for (name, value) in ome where name != "version" {
            out[name] = versioned.contains(name) ? withVersion(value) : value
        }
        return out
    }

    /// `value` (an object, or a list of objects as `multiscales` is) with `"version": "0.4"`.
    private static func withVersion(_ value: JSONValue) -> JSONValue {
        switch value {
        case var .object(object):
            object["version"] = "0.4"
            return .object(object)
        case let .array(items):
            return .array(items.map(withVersion))
        default:
            return value
        }
    }
}
