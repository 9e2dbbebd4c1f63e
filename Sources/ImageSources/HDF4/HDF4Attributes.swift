import CHDF4
import Foundation
import ZarrCore

/// Attributes of an HDF4 file, SDS or dimension (`SDattrinfo` + `SDreadattr`) as JSON:
/// text as strings, numbers as a scalar or an array. Call with the library lock held.
enum HDF4Attributes {
    static func read(_ id: Int32, count: Int32) -> [String: JSONValue] {
        var values = [String: JSONValue]()
        for index in 0..<max(0, count) {
            var name = [CChar](repeating: 0, count: Int(H4_MAX_NC_NAME) + 1)
            var type: Int32 = 0, n: Int32 = 0
            guard SDattrinfo(id, index, &name, &type, &n) != FAIL else { continue }
            values[String(hdf4Name: name)] = value(id, index: index, type: type, count: Int(n))
        }
        return values
    }

    private static func value(_ id: Int32, index: Int32, type: Int32, count: Int) -> JSONValue {
        let size = Int(DFKNTsize(type))
        guard count > 0, size > 0, size <= 16 else { return .null }
        guard count <= HDF4Library.maxAttributeValues else { return .string("<\(count) values>") }
        var raw = [UInt8](repeating: 0, count: count * size)
        guard raw.withUnsafeMutableBytes({ SDreadattr(id, index, $0.baseAddress) }) != FAIL else { return .null }
        return decode(raw, type: type, count: count)
    }

    /// `count` values of HDF4 number type `type`, in host order, as JSON: text as one
    /// string, one number as a scalar, several as an array.
    static func decode(_ raw: [UInt8], type: Int32, count: Int) -> JSONValue {
        let base = type & 0x0FFF // drops the native / little-endian flags: values arrive in host order
        let size = Int(DFKNTsize(base))
        guard size > 0, raw.count >= count * size else { return .null }
        if base == DFNT_CHAR8 || base == DFNT_UCHAR8 {
            let text = String(decoding: raw.prefix(count).prefix { $0 != 0 }, as: UTF8.self)
            return .string(text)
        }
        let numbers: [JSONValue] = raw.withUnsafeBytes { bytes in
            (0..<count).map { i -> JSONValue in
                let at = i * size
                switch base {
                case DFNT_INT8: return .int(Int64(bytes.load(fromByteOffset: at, as: Int8.self)))
                case DFNT_UINT8: return .uint(UInt64(bytes.load(fromByteOffset: at, as: UInt8.self)))
                case DFNT_INT16: return .int(Int64(bytes.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                case DFNT_UINT16: return .uint(UInt64(bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                case DFNT_INT32: return .int(Int64(bytes.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                case DFNT_UINT32: return .uint(UInt64(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                case DFNT_INT64: return .int(bytes.loadUnaligned(fromByteOffset: at, as: Int64.self))
                case DFNT_UINT64: return .uint(bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                case DFNT_FLOAT32: return number(Double(bytes.loadUnaligned(fromByteOffset: at, as: Float.self)))
                case DFNT_FLOAT64: return number(bytes.loadUnaligned(fromByteOffset: at, as: Double.self))
                default: return .string("<HDF4 type \(base)>")
                }
            }
        }
        return numbers.count == 1 ? numbers[0] : .array(numbers)
    }

    static func number(_ v: Double) -> JSONValue { v.isFinite ? .double(v) : .string("\(v)") }
}
