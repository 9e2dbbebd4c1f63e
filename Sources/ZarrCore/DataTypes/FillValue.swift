/// A fill value as the raw little-endian bytes of one element, so that filling and
/// comparing buffers is a byte operation whatever the data type.
public struct FillValue: Sendable, Equatable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// All-zero bytes: 0, false or +0.0 for every type.
    public static func zero(_ type: DataType) -> FillValue { FillValue(bytes: [UInt8](repeating: 0, count: type.size)) }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// Parses a metadata `fill_value`. `null` (allowed in v2) becomes zero, which is what
    /// zarr-python reads for it. Floats accept the strings `NaN`, `Infinity`, `-Infinity`
    /// and v3's hex bit patterns (`0x7fc00000`).
    public init(json: JSONValue, type: DataType, key: String) throws {
        func bad() -> ZarrError { .invalidMetadata(key: key, reason: "fill_value \(json) is not a valid \(type.rawValue)") }
        switch json {
        case .null:
            self = .zero(type)
            return
        case let .bool(b):
            guard type == .bool else { throw bad() }
            self.init(bytes: [b ? 1 : 0])
            return
        default: break
        }
        if type == .bool {
            guard let i = json.intValue, i == 0 || i == 1 else { throw bad() }
            self.init(bytes: [UInt8(i)])
            return
        }
        if type.isFloatingPoint {
            let value: Double
            if let s = json.stringValue {
                switch s {
                case "NaN": value = .nan
                case "Infinity": value = .infinity
                case "-Infinity": value = -.infinity
                default:
                    guard s.hasPrefix("0x"), let bits = UInt64(s.dropFirst(2), radix: 16) else { throw bad() }
                    self.init(bytes: littleEndianBytes(bits, count: type.size))
                    return
                }
            } else if let d = json.doubleValue {
                value = d
            } else {
                throw bad()
            }
            self.init(double: value, type: type)
            return
        }
        // Integers: the value must fit the type exactly.
        switch json {
        case let .int(i):
            guard let bits = integerBits(Int128(i), type: type) else { throw bad() }
            self.init(bytes: littleEndianBytes(bits, count: type.size))
        case let .uint(u):
            guard let bits = integerBits(Int128(u), type: type) else { throw bad() }
            self.init(bytes: littleEndianBytes(bits, count: type.size))
        case let .double(d):
            guard let i = Int64(exactly: d), let bits = integerBits(Int128(i), type: type) else { throw bad() }
            self.init(bytes: littleEndianBytes(bits, count: type.size))
        default:
            throw bad()
        }
    }

    public init(double value: Double, type: DataType) {
        switch type {
        case .float16: bytes = littleEndianBytes(UInt64(Float16(value).bitPattern), count: 2)
        case .float32: bytes = littleEndianBytes(UInt64(Float(value).bitPattern), count: 4)
        case .float64: bytes = littleEndianBytes(value.bitPattern, count: 8)
        default:
            let bits = integerBits(Int128(value.rounded()), type: type) ?? 0
            bytes = littleEndianBytes(bits, count: type.size)
        }
    }

    /// The value as metadata JSON (`"NaN"`, `"Infinity"`, `"-Infinity"` for specials).
    public func json(_ type: DataType) -> JSONValue {
        var bits: UInt64 = 0
        for (i, b) in bytes.enumerated() { bits |= UInt64(b) << (8 * UInt64(i)) }
        switch type {
        case .bool: return .bool(bits != 0)
        case .uint8, .uint16, .uint32, .uint64: return bits > UInt64(Int64.max) ? .uint(bits) : .int(Int64(bits))
        case .int8: return .int(Int64(Int8(truncatingIfNeeded: bits)))
        case .int16: return .int(Int64(Int16(truncatingIfNeeded: bits)))
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: bits)))
        case .int64: return .int(Int64(bitPattern: bits))
        case .float16: return Self.floatJSON(Double(Float16(bitPattern: UInt16(bits))))
        case .float32: return Self.floatJSON(Double(Float(bitPattern: UInt32(bits))))
        case .float64: return Self.floatJSON(Double(bitPattern: bits))
        }
    }

    private static func floatJSON(_ d: Double) -> JSONValue {
        if d.isNaN { return "NaN" }
        if d == .infinity { return "Infinity" }
        if d == -.infinity { return "-Infinity" }
        if d == d.rounded(), abs(d) < 1e15 { return .double(d) }
        return .double(d)
    }
}

/// Two's-complement bits of `value` if it fits `type`'s range.
private func integerBits(_ value: Int128, type: DataType) -> UInt64? {
    let range: ClosedRange<Int128>
    switch type {
    case .int8: range = Int128(Int8.min)...Int128(Int8.max)
    case .int16: range = Int128(Int16.min)...Int128(Int16.max)
    case .int32: range = Int128(Int32.min)...Int128(Int32.max)
    case .int64: range = Int128(Int64.min)...Int128(Int64.max)
    case .uint8: range = 0...Int128(UInt8.max)
    case .uint16: range = 0...Int128(UInt16.max)
    case .uint32: range = 0...Int128(UInt32.max)
    case .uint64: range = 0...Int128(UInt64.max)
    default: return nil
    }
    guard range.contains(value) else { return nil }
    return UInt64(truncatingIfNeeded: value)
}

private func littleEndianBytes(_ bits: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) }
}
