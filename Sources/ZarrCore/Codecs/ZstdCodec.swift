import CZstd

/// Zstandard frames through libzstd.
public struct ZstdCodec: BytesToBytesCodec {
    public var level: Int
    public var checksum: Bool

    public init(level: Int = 3, checksum: Bool = false) {
        self.level = level
        self.checksum = checksum
    }

    public init(configuration c: JSONValue?, key: String) throws {
        let level = c?["level"]?.intValue ?? 0
        guard (-131072...22).contains(level) else { throw ZarrError.invalidMetadata(key: key, reason: "zstd level \(level) out of range") }
        self.init(level: level, checksum: c?["checksum"]?.boolValue ?? false)
    }

    public var metadata: JSONValue { codecMetadata("zstd", ["level": JSONValue(level), "checksum": .bool(checksum)]) }
    /// numcodecs' form; `checksum` only when set, as tensorstore rejects the member.
    public var v2Metadata: JSONValue? {
        checksum ? ["id": "zstd", "level": JSONValue(level), "checksum": true] : ["id": "zstd", "level": JSONValue(level)]
    }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        guard let ctx = ZSTD_createCCtx() else { throw ZarrError.invalidRequest("zstd: out of memory") }
        defer { ZSTD_freeCCtx(ctx) }
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, Int32(level))
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, checksum ? 1 : 0)
        let capacity = ZSTD_compressBound(bytes.count)
        var written = 0
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, initialized in
            written = bytes.withUnsafeBytes { src in ZSTD_compress2(ctx, dst.baseAddress, capacity, src.baseAddress, bytes.count) }
            initialized = ZSTD_isError(written) != 0 ? 0 : written
        }
        guard ZSTD_isError(written) == 0 else { throw ZarrError.invalidRequest("zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))") }
        return out
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        let size = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, bytes.count) }
        if size == tessera_zstd_contentsize_error() { throw corrupt("not a zstd frame") }
        if size != tessera_zstd_contentsize_unknown(), size <= UInt64(Int.max) {
            let n = Int(size)
            var result = 0
            let out = [UInt8](unsafeUninitializedCapacity: n) { dst, initialized in
                result = bytes.withUnsafeBytes { ZSTD_decompress(dst.baseAddress, n, $0.baseAddress, bytes.count) }
                initialized = ZSTD_isError(result) != 0 ? 0 : result
            }
            guard ZSTD_isError(result) == 0, result == n else { throw corrupt("zstd frame does not decompress") }
            return out
        }
        return try streamingDecompress(bytes)
    }

    /// Frames written without a content size (streaming writers) are decoded piecewise.
    private func streamingDecompress(_ bytes: [UInt8]) throws -> [UInt8] {
        guard let ds = ZSTD_createDStream() else { throw ZarrError.invalidRequest("zstd: out of memory") }
        defer { ZSTD_freeDStream(ds) }
        var out = [UInt8]()
        let step = ZSTD_DStreamOutSize()
        var chunk = [UInt8](repeating: 0, count: step)
        try bytes.withUnsafeBytes { src in
            var input = ZSTD_inBuffer(src: src.baseAddress, size: bytes.count, pos: 0)
            var last = 1
            while input.pos < input.size || last != 0 {
                let before = input.pos
                var produced = 0
                last = chunk.withUnsafeMutableBytes { dst in
                    var output = ZSTD_outBuffer(dst: dst.baseAddress, size: step, pos: 0)
                    let r = ZSTD_decompressStream(ds, &output, &input)
                    produced = output.pos
                    return r
                }
                if ZSTD_isError(last) != 0 { throw corrupt("zstd stream does not decompress") }
                out.append(contentsOf: chunk[0..<produced])
                if produced == 0 && input.pos == before { if last != 0 { throw corrupt("zstd stream is truncated") }; break }
            }
        }
        return out
    }
}
