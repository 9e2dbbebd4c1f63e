import Foundation

/// A dense C-order block of elements: raw little-endian bytes plus type and shape.
/// This is what codecs, regions and chunk caches pass around; hot loops work on its
/// bytes directly.
public struct NDBuffer: Sendable, Equatable {
    public var dataType: DataType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dataType: DataType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dataType.size, "buffer size does not match shape")
        self.dataType = dataType
        self.shape = shape
        self.bytes = bytes
    }

    /// A buffer with every element set to `fill`.
    public init(dataType: DataType, shape: [Int], fill: FillValue) {
        self.dataType = dataType
        self.shape = shape
        self.bytes = repeatedPattern(fill.bytes, count: shape.reduce(1, *))
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// True when every element equals `fill`, i.e. the chunk need not be stored.
    public func isUniform(_ fill: FillValue) -> Bool { bytesAreUniform(bytes, pattern: fill.bytes) }
}

/// `count` copies of `pattern`, built by doubling (memcpy-speed for large buffers).
func repeatedPattern(_ pattern: [UInt8], count: Int) -> [UInt8] {
    let total = pattern.count * count
    if pattern.allSatisfy({ $0 == 0 }) { return [UInt8](repeating: 0, count: total) }
    if pattern.count == 1 { return [UInt8](repeating: pattern[0], count: total) }
    return [UInt8](unsafeUninitializedCapacity: total) { buf, initialized in
        guard total > 0 else { initialized = 0; return }
        let base = buf.baseAddress!
        pattern.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: pattern.count) }
        var filled = pattern.count
        while filled < total {
            let n = min(filled, total - filled)
            (base + filled).initialize(from: base, count: n)
            filled += n
        }
        initialized = total
    }
}

/// Whether `bytes` is `pattern` repeated; compares 8 bytes at a time for the common
/// all-zero fill.
func bytesAreUniform(_ bytes: [UInt8], pattern: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
        let n = raw.count
        if pattern.allSatisfy({ $0 == 0 }) {
            var i = 0
            while i + 8 <= n {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
                i += 8
            }
            while i < n { if raw[i] != 0 { return false }; i += 1 }
            return true
        }
        let p = pattern.count
        guard n % p == 0 else { return false }
        return pattern.withUnsafeBytes { pat in
            var i = 0
            while i < n {
                if memcmp(raw.baseAddress! + i, pat.baseAddress!, p) != 0 { return false }
                i += p
            }
            return true
        }
    }
}
