@preconcurrency import CHDF5
import ZarrCore

/// Every object's attributes (groups, datasets, named types), for the catalogue's harvest:
/// one scope per object path (`/`, `/entry/instrument`), attributes in name order (h5py's
/// order), values as `HDF5Attributes` reads them. Bounded: at most `maxObjects` objects are
/// visited (the rest are left out and `truncated` said); each attribute is bounded by
/// `HDF5Attributes.value` (≤ 1 Mi elements).
enum HDF5ObjectWalk {
    static let maxObjects = 10_000

    static func metadata(_ file: hid_t) -> JSONValue {
        final class Box {
            var scopes: [JSONValue] = []
            var visited = 0
            var truncated = false
        }
        let box = Box()
        let visit: H5O_iterate_t = { parent, name, _, context in
            guard let name, let context else { return 0 }
            let box = Unmanaged<Box>.fromOpaque(context).takeUnretainedValue()
            guard box.visited < HDF5ObjectWalk.maxObjects else {
                box.truncated = true
                return 1
            }
            box.visited += 1
            let relative = String(cString: name)
            let object = H5Oopen(parent, name, tessera_h5p_default())
            guard object >= 0 else { return 0 }
            defer { H5Oclose(object) }
            let attributes = HDF5Attributes.read(object)
            guard !attributes.isEmpty else { return 0 }
            let entries = attributes.keys.sorted().compactMap { key in attributes[key].map { JSONValue.array([.string(key), $0]) } }
            let path = relative == "." ? "/" : "/" + relative
            box.scopes.append(.object(["scope": .string(path), "entries": .array(entries)]))
            return 0
        }
        // H5O_INFO_BASIC (1): the walk needs no more than the object's identity.
        _ = H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit, Unmanaged.passUnretained(box).toOpaque(), 1)
        return .object(["format": "hdf5", "scopes": .array(box.scopes), "truncated": .bool(box.truncated)])
    }
}
