/// An ordered codec chain, built from v3 `codecs` metadata or from a v2 array's
/// `order`/`compressor`, so both formats share one encoder and decoder.
public struct CodecPipeline: Sendable {
    public var arrayToArray: [any ArrayToArrayCodec]
    public var arrayToBytes: any ArrayToBytesCodec
    public var bytesToBytes: [any BytesToBytesCodec]

    public init(arrayToArray: [any ArrayToArrayCodec] = [], arrayToBytes: any ArrayToBytesCodec = BytesCodec(),
                bytesToBytes: [any BytesToBytesCodec] = []) {
        self.arrayToArray = arrayToArray
        self.arrayToBytes = arrayToBytes
        self.bytesToBytes = bytesToBytes
    }

    /// Parses a v3 `codecs` list for an array (or inner chunk) of `dimensions` axes and
    /// element type `dataType`, enforcing the array→array, array→bytes, bytes→bytes order.
    public init(v3 list: [JSONValue], dataType: DataType, dimensions: Int, key: String) throws {
        var a2a = [any ArrayToArrayCodec](), a2b: (any ArrayToBytesCodec)?, b2b = [any BytesToBytesCodec]()
        for entry in list {
            let name: String
            let configuration: JSONValue?
            if let s = entry.stringValue { name = s; configuration = nil } else if let n = entry["name"]?.stringValue {
                name = n
                configuration = entry["configuration"]
            } else {
                throw ZarrError.invalidMetadata(key: key, reason: "codec entry without a name: \(entry)")
            }
            func place<C>(_ codec: C) throws {
                switch codec {
                case let c as any ArrayToArrayCodec:
                    guard a2b == nil else { throw ZarrError.invalidMetadata(key: key, reason: "array→array codec '\(name)' after the array→bytes codec") }
                    a2a.append(c)
                case let c as any ArrayToBytesCodec:
                    guard a2b == nil else { throw ZarrError.invalidMetadata(key: key, reason: "more than one array→bytes codec") }
                    a2b = c
                case let c as any BytesToBytesCodec:
                    guard a2b != nil else { throw ZarrError.invalidMetadata(key: key, reason: "bytes→bytes codec '\(name)' before the array→bytes codec") }
                    b2b.append(c)
                default: break
                }
            }
            switch name {
            case "transpose": try place(TransposeCodec(configuration: configuration, key: key, dimensions: dimensions))
            case "bytes", "endian": try place(BytesCodec(configuration: configuration, key: key))
            case "sharding_indexed": try place(ShardingCodec(configuration: configuration, dataType: dataType, dimensions: dimensions, key: key))
            case "blosc": try place(BloscCodec(configuration: configuration, key: key))
            case "zstd": try place(ZstdCodec(configuration: configuration, key: key))
            case "gzip": try place(GzipCodec(level: configuration?["level"], framing: .gzip, key: key))
            case "crc32c": try place(CRC32CCodec())
            default: throw ZarrError.unsupported(key: key, what: "codec '\(name)'")
            }
        }
        guard let a2b else { throw ZarrError.invalidMetadata(key: key, reason: "codecs list has no array→bytes codec (bytes or sharding_indexed)") }
        self.init(arrayToArray: a2a, arrayToBytes: a2b, bytesToBytes: b2b)
    }

    /// The v3 `codecs` list.
    public var v3Metadata: [JSONValue] {
        arrayToArray.map(\.metadata) + [arrayToBytes.metadata] + bytesToBytes.map(\.metadata)
    }

    /// The sharding codec when it is the whole array→bytes step (no transpose in front):
    /// only then can inner chunks be read one by one from the shard.
    public var sharding: ShardingCodec? { arrayToArray.isEmpty ? arrayToBytes as? ShardingCodec : nil }

    public func encode(_ chunk: NDBuffer, spec: ChunkSpec) throws -> [UInt8] {
        var array = chunk
        var s = spec
        for codec in arrayToArray {
            array = try codec.encode(array)
            s = codec.encodedSpec(s)
        }
        var bytes = try arrayToBytes.encode(array, spec: s)
        for codec in bytesToBytes { bytes = try codec.encode(bytes) }
        return bytes
    }

    /// Decodes one stored chunk. Every step is bounded by what a chunk of `spec` can
    /// take at that point of the chain (`encodedSizeBounds`), never by what the data says.
    public func decode(_ encoded: [UInt8], spec: ChunkSpec) throws -> NDBuffer {
        var specs = [spec]
        for codec in arrayToArray { specs.append(codec.encodedSpec(specs.last!)) }
        guard let bounds = encodedSizeBounds(specs.last!) else { throw corrupt("chunk shape \(spec.shape) is too large to decode") }
        guard encoded.count <= bounds.last! else {
            throw corrupt("\(encoded.count) stored bytes are more than the \(bounds.last!) a chunk of this array can take")
        }
        var bytes = encoded
        for (i, codec) in bytesToBytes.enumerated().reversed() { bytes = try codec.decode(bytes, maxDecodedSize: bounds[i]) }
        var array = try arrayToBytes.decode(bytes, spec: specs.last!)
        for (i, codec) in arrayToArray.enumerated().reversed() { array = try codec.decode(array, into: specs[i]) }
        return array
    }

    /// The most bytes at each step of the chain for a chunk whose array→bytes input is
    /// `encodedSpec`: [0] out of the array→bytes codec, [i + 1] out of bytes→bytes codec i.
    /// nil if a bound does not fit in an Int.
    func encodedSizeBounds(_ encodedSpec: ChunkSpec) -> [Int]? {
        guard var n = arrayToBytes.maxEncodedSize(encodedSpec) else { return nil }
        var bounds = [n]
        for codec in bytesToBytes {
            guard let m = codec.maxEncodedSize(n) else { return nil }
            n = m
            bounds.append(n)
        }
        return bounds
    }

    /// The most bytes a stored chunk of `spec` can take (nil if that overflows an Int):
    /// larger objects are refused before they are read.
    public func maxEncodedSize(_ spec: ChunkSpec) -> Int? {
        var s = spec
        for codec in arrayToArray { s = codec.encodedSpec(s) }
        return encodedSizeBounds(s)?.last
    }

    /// The encoded size of a chunk of `spec` when every codec's output size is fixed.
    public func fixedEncodedSize(_ spec: ChunkSpec) -> Int? {
        var s = spec
        for codec in arrayToArray { s = codec.encodedSpec(s) }
        guard var n = arrayToBytes.fixedEncodedSize(s) else { return nil }
        for codec in bytesToBytes {
            guard let m = codec.fixedEncodedSize(n) else { return nil }
            n = m
        }
        return n
    }
}
