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
        // A pooled context, reset to the defaults first: the same bytes as a new one.
        try ZstdContexts.shared.withContext { ctx in
            guard let ctx else { throw ZarrError.invalidRequest("zstd: out of memory") }
            ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters)
            ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, Int32(level))
            ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, checksum ? 1 : 0)
            return try compress(bytes, ctx)
        }
    }

    private func compress(_ bytes: [UInt8], _ ctx: OpaquePointer) throws -> [UInt8] {
        let capacity = ZSTD_compressBound(bytes.count)
        var written = 0
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, initialized in
            written = bytes.withUnsafeBytes { src in ZSTD_compress2(ctx, dst.baseAddress, capacity, src.baseAddress, bytes.count) }
            initialized = ZSTD_isError(written) != 0 ? 0 : written
        }
        guard ZSTD_isError(written) == 0 else { throw ZarrError.invalidRequest("zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))") }
        return out
    }

    /// Decodes into one buffer of `maxDecodedSize + 1` bytes, so neither a frame's declared
    /// content size (a 530-byte frame may claim 2^40 bytes) nor a frame without one (a
    /// 96 KiB run of RLE blocks inflates to 3 GiB) makes it allocate or write more.
    /// One-shot decoding also needs no window buffer, whatever window the frame asks for.
    public func decode(_ bytes: [UInt8], maxDecodedSize: Int) throws -> [UInt8] {
        let declared = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, bytes.count) }
        if declared == tessera_zstd_contentsize_error() { throw corrupt("not a zstd frame") }
        if declared != tessera_zstd_contentsize_unknown(), declared > UInt64(maxDecodedSize) {
            throw corrupt("zstd frame declares \(declared) bytes, more than the \(maxDecodedSize) a chunk of this array can hold")
        }
        guard maxDecodedSize < Int.max else { throw decodedTooLarge("zstd", limit: maxDecodedSize) }
        let capacity = maxDecodedSize + 1
        var result = 0
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, initialized in
            result = bytes.withUnsafeBytes { ZSTD_decompress(dst.baseAddress, capacity, $0.baseAddress, bytes.count) }
            initialized = ZSTD_isError(result) != 0 ? 0 : result
        }
        if ZSTD_isError(result) != 0 {
            throw corrupt("zstd data does not decompress to at most \(maxDecodedSize) bytes (\(String(cString: ZSTD_getErrorName(result))))")
        }
        guard result <= maxDecodedSize else { throw decodedTooLarge("zstd", limit: maxDecodedSize) }
        return out
    }
}
