import ZarrCore

/// One 2-D plane (one channel at one t and z) in the image's data type: raw
/// little-endian bytes, row-major, `width × height` elements. Resampling keeps the type
/// (integer averages are rounded), so data outputs keep the image's dtype.
public struct PlaneBuffer: Sendable, Equatable {
    public var dataType: DataType
    public var width: Int
    public var height: Int
    public var bytes: [UInt8]

    public init(dataType: DataType, width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == width * height * dataType.size, "plane bytes do not match its size")
        self.dataType = dataType
        self.width = width
        self.height = height
        self.bytes = bytes
    }

    /// Element `i` (row-major) as a float64: exact for every type but 64-bit integers
    /// beyond 2^53, as numpy's `astype(float64)`.
    public func value(_ i: Int) -> Double {
        bytes.withUnsafeBytes { raw in
            withScalarType(dataType, ValueAt(raw: raw, index: i))
        }
    }

    private struct ValueAt: ScalarVisitor {
        let raw: UnsafeRawBufferPointer
        let index: Int
        func visit<T: RenderScalar>(_: T.Type) -> Double { raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self).double }
    }
}

/// The element types a plane holds, with what the render's kernels need of them.
public protocol RenderScalar: Sendable {
    /// The value as a float64 (as numpy's `astype(float64)`).
    var double: Double { get }
    /// The value from a float64 result: integers round half up and clamp to the type's
    /// range; floats round to nearest (a float64 → float32 cast).
    init(fromDouble: Double)
    /// Whether the type is an integer with at most 32 bits, whose area sums fit Int64.
    static var exactInteger: Bool { get }
    /// The value as an Int64 (exact for `exactInteger` types).
    var int64: Int64 { get }
    init(exactly64: Int64)
}

extension RenderScalar where Self: FixedWidthInteger {
    public var double: Double { Double(self) }
    public init(fromDouble v: Double) {
        if v.isNaN { self = 0; return }
        let r = (v + 0.5).rounded(.down)
        if r <= Double(Self.min) { self = Self.min } else if r >= Double(Self.max) { self = Self.max } else { self = Self(r) }
    }
    public static var exactInteger: Bool { Self.bitWidth <= 32 }
    public var int64: Int64 { Int64(truncatingIfNeeded: self) }
    public init(exactly64 v: Int64) { self = Self(clamping: v) }
}

extension UInt8: RenderScalar {}
extension Int8: RenderScalar {}
extension UInt16: RenderScalar {}
extension Int16: RenderScalar {}
extension UInt32: RenderScalar {}
extension Int32: RenderScalar {}
extension UInt64: RenderScalar {}
extension Int64: RenderScalar {}

extension Float: RenderScalar {
    public var double: Double { Double(self) }
    public init(fromDouble v: Double) { self = Float(v) }
    public static var exactInteger: Bool { false }
    public var int64: Int64 { Int64(exactly: rounded()) ?? 0 }
    public init(exactly64 v: Int64) { self = Float(v) }
}

extension Double: RenderScalar {
    public var double: Double { self }
    public init(fromDouble v: Double) { self = v }
    public static var exactInteger: Bool { false }
    public var int64: Int64 { Int64(exactly: rounded()) ?? 0 }
    public init(exactly64 v: Int64) { self = Double(v) }
}

extension Float16: RenderScalar {
    public var double: Double { Double(self) }
    public init(fromDouble v: Double) { self = Float16(Float(v)) }
    public static var exactInteger: Bool { false }
    public var int64: Int64 { Int64(exactly: Float(self).rounded()) ?? 0 }
    public init(exactly64 v: Int64) { self = Float16(Float(v)) }
}

/// A kernel generic over the element type, run once per plane after one switch on the
/// data type (DESIGN.md: "dispatched once per chunk on dtype").
public protocol ScalarVisitor {
    associatedtype Result
    func visit<T: RenderScalar>(_: T.Type) -> Result
}

/// Runs `visitor` with the Swift type of `dataType` (bool is stored as one byte, 0 or 1).
public func withScalarType<V: ScalarVisitor>(_ dataType: DataType, _ visitor: V) -> V.Result {
    switch dataType {
    case .bool, .uint8: return visitor.visit(UInt8.self)
    case .int8: return visitor.visit(Int8.self)
    case .uint16: return visitor.visit(UInt16.self)
    case .int16: return visitor.visit(Int16.self)
    case .uint32: return visitor.visit(UInt32.self)
    case .int32: return visitor.visit(Int32.self)
    case .uint64: return visitor.visit(UInt64.self)
    case .int64: return visitor.visit(Int64.self)
    case .float16: return visitor.visit(Float16.self)
    case .float32: return visitor.visit(Float.self)
    case .float64: return visitor.visit(Double.self)
    }
}

/// The typed elements of a byte array, copied out (for kernels that index freely).
func elements<T: RenderScalar>(_ bytes: [UInt8], as: T.Type) -> [T] {
    let n = bytes.count / MemoryLayout<T>.size
    return [T](unsafeUninitializedCapacity: n) { buf, initialized in
        bytes.withUnsafeBytes { raw in
            if n > 0 { memcpyRaw(UnsafeMutableRawPointer(buf.baseAddress!), raw.baseAddress!, n * MemoryLayout<T>.size) }
        }
        initialized = n
    }
}

/// Typed elements back to bytes.
func bytesOf<T: RenderScalar>(_ values: [T]) -> [UInt8] {
    values.withUnsafeBytes { [UInt8]($0) }
}

@inline(__always) func memcpyRaw(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ count: Int) {
    dst.copyMemory(from: src, byteCount: count)
}
