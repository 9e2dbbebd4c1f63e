import ZarrCore

/// `.npy` version 1.0, written by hand: magic, header dict padded with spaces to a
/// multiple of 64 bytes (ending in a newline), then the raw little-endian C-order data,
/// as `np.save` writes it; `np.load` reads it back.
public enum NPYEncoder {
    public static func encode(dataType: DataType, shape: [Int], data: [UInt8]) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr(dataType))', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        out.reserveCapacity(out.count + header.utf8.count + data.count)
        out += Array(header.utf8)
        out += data
        return out
    }

    /// numpy's type string; bool is `|b1`, one byte 0 or 1.
    static func descr(_ t: DataType) -> String { t.v2TypeString }
}
