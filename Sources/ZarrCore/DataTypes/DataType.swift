/// The scalar types Zarr v2 and v3 share. Buffers in Tessera hold them as raw bytes in
/// the machine's (little-endian) order; `bytes` codecs convert at the storage edge.
public enum DataType: String, Sendable, CaseIterable, Codable {
    case bool
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float16, float32, float64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16, .float16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

    /// The Zarr v3 `data_type` name.
    public var v3Name: String { rawValue }

    public init?(v3Name: String) { self.init(rawValue: v3Name) }

    /// The Zarr v2 `dtype` string (NumPy typestr), always little-endian when written.
    public var v2TypeString: String {
        switch self {
        case .bool: return "|b1"
        case .int8: return "|i1"
        case .uint8: return "|u1"
        case .int16: return "<i2"
        case .uint16: return "<u2"
        case .int32: return "<i4"
        case .uint32: return "<u4"
        case .int64: return "<i8"
        case .uint64: return "<u8"
        case .float16: return "<f2"
        case .float32: return "<f4"
        case .float64: return "<f8"
        }
    }

    /// Parses a v2 typestr such as `<u2`, `>f4` or `|b1`; returns the type and whether
    /// stored bytes are big-endian.
    public static func parseV2(_ typestr: String) -> (DataType, bigEndian: Bool)? {
        guard typestr.count >= 3 else { return nil }
        let order = typestr.first!
        let kind = typestr.dropFirst().first!
        guard let width = Int(typestr.dropFirst(2)) else { return nil }
        let type: DataType?
        switch (kind, width) {
        case ("b", 1): type = .bool
        case ("i", 1): type = .int8
        case ("i", 2): type = .int16
        case ("i", 4): type = .int32
        case ("i", 8): type = .int64
        case ("u", 1): type = .uint8
        case ("u", 2): type = .uint16
        case ("u", 4): type = .uint32
        case ("u", 8): type = .uint64
        case ("f", 2): type = .float16
        case ("f", 4): type = .float32
        case ("f", 8): type = .float64
        default: type = nil
        }
        guard let type, "<>|=".contains(order) else { return nil }
        return (type, order == ">")
    }
}
