import CZlib

/// DEFLATE through zlib, in the two framings Zarr uses: `gzip` (v2 and v3) and `zlib`
/// (v2 only, numcodecs' Zlib).
public struct GzipCodec: BytesToBytesCodec {
    public enum Framing: String, Sendable { case gzip, zlib }
    public var level: Int
    public var framing: Framing

    public init(level: Int = 5, framing: Framing = .gzip) {
        self.level = level
        self.framing = framing
    }

    public init(level json: JSONValue?, framing: Framing, key: String) throws {
        let level = json?.intValue ?? 5
        guard (0...9).contains(level) else { throw ZarrError.invalidMetadata(key: key, reason: "\(framing.rawValue) level \(level) not in 0...9") }
        self.init(level: level, framing: framing)
    }

    public var metadata: JSONValue { codecMetadata(framing.rawValue, ["level": JSONValue(level)]) }
    public var v2Metadata: JSONValue? { ["id": .string(framing.rawValue), "level": JSONValue(level)] }

    private var windowBits: Int32 { framing == .gzip ? 15 + 16 : 15 }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard tessera_deflateInit2(&stream, Int32(level), windowBits) == Z_OK else { throw ZarrError.invalidRequest("zlib init failed") }
        defer { deflateEnd(&stream) }
        let capacity = Int(deflateBound(&stream, UInt(bytes.count))) + 32
        var status: Int32 = 0
        var produced = 0
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, initialized in
            bytes.withUnsafeBytes { src in
                stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(bytes.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(capacity)
                status = deflate(&stream, Z_FINISH)
            }
            produced = Int(stream.total_out)
            initialized = produced
        }
        guard status == Z_STREAM_END else { throw ZarrError.invalidRequest("\(framing.rawValue) compression failed (\(status))") }
        return out
    }

    /// Inflates into one buffer of `maxDecodedSize + 1` bytes and stops when it is full:
    /// a gzip bomb costs at most that buffer, never the size it would expand to.
    public func decode(_ bytes: [UInt8], maxDecodedSize: Int) throws -> [UInt8] {
        guard maxDecodedSize < Int.max else { throw decodedTooLarge(framing.rawValue, limit: maxDecodedSize) }
        var stream = z_stream()
        // +32: accept either framing on read, as zlib can detect it.
        guard tessera_inflateInit2(&stream, 15 + 32) == Z_OK else { throw ZarrError.invalidRequest("zlib init failed") }
        defer { inflateEnd(&stream) }
        let capacity = maxDecodedSize + 1
        let name = framing.rawValue
        return try [UInt8](unsafeUninitializedCapacity: capacity) { dst, initialized in
            try bytes.withUnsafeBytes { src in
                var inputLeft = bytes.count
                var next = src.bindMemory(to: Bytef.self).baseAddress
                var produced = 0
                while true {
                    // zlib counts in 32-bit uInt: feed and drain at most 1 GiB per call.
                    let feed = min(inputLeft, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: next)
                    stream.avail_in = uInt(feed)
                    let room = min(capacity - produced, 1 << 30)
                    stream.next_out = dst.baseAddress.map { $0 + produced }
                    stream.avail_out = uInt(room)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    let consumed = feed - Int(stream.avail_in)
                    inputLeft -= consumed
                    next = next.map { $0 + consumed }
                    produced += room - Int(stream.avail_out)
                    if status == Z_STREAM_END { break }
                    if produced > maxDecodedSize { throw decodedTooLarge(name, limit: maxDecodedSize) }
                    if status == Z_OK { continue }
                    if status == Z_BUF_ERROR && inputLeft == 0 { throw corrupt("\(name) stream is truncated") }
                    if status != Z_BUF_ERROR { throw corrupt("\(name) stream does not decompress (\(status))") }
                }
                guard produced <= maxDecodedSize else { throw decodedTooLarge(name, limit: maxDecodedSize) }
                initialized = produced
            }
        }
    }
}
