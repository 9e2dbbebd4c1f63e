import CBlosc

/// Blosc 1 through libblosc's `_ctx` calls, which are thread-safe and keep blosc's own
/// thread pool out of the way: Tessera parallelises across chunks instead.
public struct BloscCodec: BytesToBytesCodec {
    public enum Shuffle: String, Sendable {
        case noshuffle, shuffle, bitshuffle
        var v2Code: Int { switch self { case .noshuffle: 0; case .shuffle: 1; case .bitshuffle: 2 } }
        init?(v2Code: Int) {
            switch v2Code { case 0: self = .noshuffle; case 1: self = .shuffle; case 2: self = .bitshuffle; default: return nil }
        }
    }
    public static let compressors = ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]

    public var cname: String
    public var clevel: Int
    public var shuffle: Shuffle
    public var typesize: Int
    public var blocksize: Int

    public init(cname: String = "zstd", clevel: Int = 5, shuffle: Shuffle = .shuffle, typesize: Int = 1, blocksize: Int = 0) {
        self.cname = cname
        self.clevel = clevel
        self.shuffle = shuffle
        self.typesize = typesize
        self.blocksize = blocksize
    }

    /// v3 configuration: `shuffle` is a string, `typesize` present when shuffling.
    public init(configuration c: JSONValue?, key: String) throws {
        let cname = c?["cname"]?.stringValue ?? "zstd"
        guard let shuffle = Shuffle(rawValue: c?["shuffle"]?.stringValue ?? "noshuffle") else {
            throw ZarrError.invalidMetadata(key: key, reason: "blosc shuffle must be noshuffle, shuffle or bitshuffle")
        }
        try self.init(cname: cname, clevel: c?["clevel"]?.intValue ?? 5, shuffle: shuffle,
                      typesize: c?["typesize"]?.intValue ?? 1, blocksize: c?["blocksize"]?.intValue ?? 0, key: key)
    }

    /// v2 (numcodecs) configuration: `shuffle` is 0/1/2, or -1 meaning "bit for 1-byte
    /// types, byte otherwise"; typesize comes from the dtype.
    public init(v2 c: JSONValue, typesize: Int, key: String) throws {
        let code = c["shuffle"]?.intValue ?? 1
        let shuffle: Shuffle
        if code == -1 { shuffle = typesize == 1 ? .bitshuffle : .shuffle } else if let s = Shuffle(v2Code: code) { shuffle = s } else {
            throw ZarrError.invalidMetadata(key: key, reason: "blosc shuffle \(code) is not 0, 1, 2 or -1")
        }
        try self.init(cname: c["cname"]?.stringValue ?? "lz4", clevel: c["clevel"]?.intValue ?? 5, shuffle: shuffle,
                      typesize: typesize, blocksize: c["blocksize"]?.intValue ?? 0, key: key)
    }

    private init(cname: String, clevel: Int, shuffle: Shuffle, typesize: Int, blocksize: Int, key: String) throws {
        guard Self.compressors.contains(cname) else {
            throw ZarrError.unsupported(key: key, what: "blosc compressor '\(cname)'")
        }
        guard (0...9).contains(clevel) else { throw ZarrError.invalidMetadata(key: key, reason: "blosc clevel \(clevel) not in 0...9") }
        guard typesize >= 1, blocksize >= 0 else { throw ZarrError.invalidMetadata(key: key, reason: "blosc typesize/blocksize out of range") }
        self.init(cname: cname, clevel: clevel, shuffle: shuffle, typesize: typesize, blocksize: blocksize)
    }

    public var metadata: JSONValue {
        codecMetadata("blosc", [
            "cname": .string(cname), "clevel": JSONValue(clevel), "shuffle": .string(shuffle.rawValue),
            "typesize": JSONValue(typesize), "blocksize": JSONValue(blocksize),
        ])
    }

    public var v2Metadata: JSONValue? {
        ["id": "blosc", "cname": .string(cname), "clevel": JSONValue(clevel), "shuffle": JSONValue(shuffle.v2Code),
         "blocksize": JSONValue(blocksize)]
    }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count <= Int(Int32.max) - Int(BLOSC_MAX_OVERHEAD) else { throw ZarrError.invalidRequest("chunk of \(bytes.count) bytes exceeds blosc's 2 GiB limit") }
        if cname == "zstd", shuffle != .bitshuffle,
           let frame = BloscZstdFrame.encode(bytes, clevel: clevel, shuffle: shuffle == .shuffle, typesize: typesize, forcedBlocksize: blocksize) {
            return frame // the same bytes, zstd's contexts reused (BloscZstdFrame)
        }
        return try libbloscEncode(bytes)
    }

    /// The frame as libblosc writes it (`BloscZstdFrameTests` compares the two).
    func libbloscEncode(_ bytes: [UInt8]) throws -> [UInt8] {
        let capacity = bytes.count + Int(BLOSC_MAX_OVERHEAD)
        var written: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, initialized in
            written = bytes.withUnsafeBytes { src in
                blosc_compress_ctx(Int32(clevel), Int32(shuffle.v2Code), typesize, bytes.count,
                                   src.baseAddress, dst.baseAddress, capacity, cname, blocksize, 1)
            }
            initialized = max(0, Int(written))
        }
        guard written > 0 else { throw ZarrError.invalidRequest("blosc compression failed (\(written))") }
        return out
    }

    public func decode(_ bytes: [UInt8], maxDecodedSize: Int) throws -> [UInt8] { try Self.decompress(bytes, maxDecodedSize: maxDecodedSize) }

    /// Decodes any blosc 1 frame (the frame header carries everything needed), checking
    /// the header against the buffer first so corrupt input is an error, not a crash.
    /// The header's `nbytes` is checked against `maxDecodedSize` before anything is
    /// allocated.
    static func decompress(_ bytes: [UInt8], maxDecodedSize: Int) throws -> [UInt8] {
        guard bytes.count >= 16 else { throw corrupt("blosc frame of \(bytes.count) bytes is shorter than its 16-byte header") }
        var nbytes = 0, cbytes = 0, blocksize = 0
        let valid = bytes.withUnsafeBytes { src -> Bool in
            blosc_cbuffer_sizes(src.baseAddress, &nbytes, &cbytes, &blocksize)
            var checked = 0
            return blosc_cbuffer_validate(src.baseAddress, bytes.count, &checked) == 0
        }
        guard valid, cbytes <= bytes.count, cbytes >= 16 else {
            throw corrupt("blosc header is invalid or claims \(cbytes) bytes of a \(bytes.count)-byte frame")
        }
        guard nbytes <= maxDecodedSize else {
            throw corrupt("blosc header claims \(nbytes) decoded bytes, more than the \(maxDecodedSize) a chunk of this array can hold")
        }
        if nbytes == 0 { return [] }
        var result: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: nbytes) { dst, initialized in
            result = bytes.withUnsafeBytes { src in blosc_decompress_ctx(src.baseAddress, dst.baseAddress, nbytes, 1) }
            initialized = result == Int32(nbytes) ? nbytes : 0
        }
        guard result == Int32(nbytes) else { throw corrupt("blosc frame does not decompress (code \(result))") }
        return out
    }
}
