@preconcurrency import CHDF5
import Foundation
import ZarrCore

/// An HDF5 object's attributes as JSON: numbers and strings (scalars or arrays); other
/// types are noted by name so nothing is silently dropped.
enum HDF5Attributes {
    static func read(_ object: hid_t) -> [String: JSONValue] {
        final class Box { var values: [String: JSONValue] = [:] }
        let box = Box()
        let visit: H5A_operator2_t = { location, name, _, context in
            guard let name, let context else { return 0 }
            let box = Unmanaged<Box>.fromOpaque(context).takeUnretainedValue()
            let key = String(cString: name)
            let attribute = H5Aopen(location, name, tessera_h5p_default())
            guard attribute >= 0 else { return 0 }
            defer { H5Aclose(attribute) }
            box.values[key] = HDF5Attributes.value(attribute)
            return 0
        }
        var index: hsize_t = 0
        _ = H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_NATIVE, &index, visit, Unmanaged.passUnretained(box).toOpaque())
        return box.values
    }

    static func value(_ attribute: hid_t) -> JSONValue {
        let type = H5Aget_type(attribute)
        defer { H5Tclose(type) }
        let space = H5Aget_space(attribute)
        let count = Int(H5Sget_simple_extent_npoints(space))
        let scalar = H5Sget_simple_extent_ndims(space) == 0
        H5Sclose(space)
        guard count > 0, count < 1 << 20 else { return .null }
        func wrap(_ values: [JSONValue]) -> JSONValue { scalar && values.count == 1 ? values[0] : .array(values) }
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            if H5Tget_sign(type) == H5T_SGN_NONE {
                var v = [UInt64](repeating: 0, count: count)
                guard H5Aread(attribute, tessera_h5t_native_uint64(), &v) >= 0 else { return .null }
                return wrap(v.map { .uint($0) })
            }
            var v = [Int64](repeating: 0, count: count)
            guard H5Aread(attribute, tessera_h5t_native_int64(), &v) >= 0 else { return .null }
            return wrap(v.map { .int($0) })
        case H5T_FLOAT:
            var v = [Double](repeating: 0, count: count)
            guard H5Aread(attribute, tessera_h5t_native_double(), &v) >= 0 else { return .null }
            return wrap(v.map { $0.isFinite ? .double($0) : .string("\($0)") })
        case H5T_STRING:
            // Read with the file's own string type, so its character set, padding and
            // size are kept (a converted C string type drops the last character of a
            // full-length NULLPAD string, and UTF-8 ↔ ASCII conversion is refused).
            let memoryType = H5Tcopy(type)
            defer { H5Tclose(memoryType) }
            if H5Tis_variable_str(type) > 0 {
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                guard H5Aread(attribute, memoryType, &pointers) >= 0 else { return .null }
                let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
                for p in pointers { if let p { H5free_memory(p) } }
                return wrap(strings.map { .string($0) })
            }
            let size = H5Tget_size(type)
            var raw = [UInt8](repeating: 0, count: count * size)
            guard H5Aread(attribute, memoryType, &raw) >= 0 else { return .null }
            let strings = (0..<count).map { i -> JSONValue in
                let slice = raw[(i * size)..<((i + 1) * size)]
                let text = String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
                return .string(text.trimmingCharacters(in: .whitespaces))
            }
            return wrap(strings)
        case H5T_ENUM where isBoolean(type):
            // numpy's bool as h5py writes it: an 8-bit enum FALSE = 0, TRUE = 1.
            let memoryType = H5Tget_native_type(type, H5T_DIR_DEFAULT)
            defer { H5Tclose(memoryType) }
            var v = [Int8](repeating: 0, count: count)
            guard H5Aread(attribute, memoryType, &v) >= 0 else { return .null }
            return wrap(v.map { .bool($0 != 0) })
        default:
            return .string("<\(HDF5Opener.typeName(type))>")
        }
    }

    /// An 8-bit enum whose two members are FALSE and TRUE (h5py's bool).
    static func isBoolean(_ type: hid_t) -> Bool {
        guard H5Tget_size(type) == 1, H5Tget_nmembers(type) == 2 else { return false }
        var names = Set<String>()
        for i in 0..<2 {
            guard let name = H5Tget_member_name(type, UInt32(i)) else { return false }
            names.insert(String(cString: name))
            H5free_memory(name)
        }
        return names == ["FALSE", "TRUE"]
    }
}
