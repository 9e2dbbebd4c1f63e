/// The `bytes` codec: array elements as raw bytes in a stated byte order. Tessera
/// buffers are little-endian, so encoding little-endian is free and big-endian (read
/// from other writers) costs one byte swap.
public struct BytesCodec: ArrayToBytesCodec {
    public enum Endian: String, Sendable { case little, big }
    public var endian: Endian

    public init(endian: Endian = .little) { self.endian = endian }

    public init(configuration: JSONValue?, key: String) throws {
        guard let e = configuration?["endian"] else { self.init(); return }
        guard let s = e.stringValue, let endian = Endian(rawValue: s) else {
            throw ZarrError.invalidMetadata(key: key, reason: "bytes codec endian must be 'little' or 'big'")
        }
        self.init(endian: endian)
    }

    public var metadata: JSONValue { codecMetadata("bytes", ["endian": .string(endian.rawValue)]) }

    public func encode(_ chunk: NDBuffer, spec: ChunkSpec) throws -> [UInt8] {
        endian == .little ? chunk.bytes : byteSwapped(chunk.bytes, elementSize: chunk.dataType.size)
    }

    public func decode(_ bytes: [UInt8], spec: ChunkSpec) throws -> NDBuffer {
        guard let expected = maxEncodedSize(spec) else { throw corrupt("chunk shape \(spec.shape) is too large") }
        guard bytes.count == expected else {
            throw corrupt("expected \(expected) bytes after decompression, found \(bytes.count)")
        }
        let native = endian == .little ? bytes : byteSwapped(bytes, elementSize: spec.dataType.size)
        return NDBuffer(dataType: spec.dataType, shape: spec.shape, bytes: native)
    }

    public func fixedEncodedSize(_ spec: ChunkSpec) -> Int? { checkedProduct(spec.shape + [spec.dataType.size]) }
    public func maxEncodedSize(_ spec: ChunkSpec) -> Int? { fixedEncodedSize(spec) }
}

/// Reverses the bytes of every `elementSize`-byte element.
func byteSwapped(_ bytes: [UInt8], elementSize: Int) -> [UInt8] {
    guard elementSize > 1 else { return bytes }
    var out = bytes
    out.withUnsafeMutableBufferPointer { p in
        var i = 0
        while i + elementSize <= p.count {
            var a = i, b = i + elementSize - 1
            while a < b { p.swapAt(a, b); a += 1; b -= 1 }
            i += elementSize
        }
    }
    return out
}
