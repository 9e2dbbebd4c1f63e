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

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // +32: accept either framing on read, as zlib can detect it.
        guard tessera_inflateInit2(&stream, 15 + 32) == Z_OK else { throw ZarrError.invalidRequest("zlib init failed") }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: max(1024, bytes.count * 4))
        var status: Int32 = Z_OK
        try bytes.withUnsafeBytes { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(bytes.count)
            while true {
                let done = Int(stream.total_out)
                if done == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
                out.withUnsafeMutableBytes { dst in
                    stream.next_out = dst.bindMemory(to: Bytef.self).baseAddress! + done
                    stream.avail_out = uInt(dst.count - done)
                    status = inflate(&stream, Z_NO_FLUSH)
                }
                if status == Z_STREAM_END { break }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR && stream.avail_in == 0 { throw corrupt("\(framing.rawValue) stream is truncated") }
                if status != Z_BUF_ERROR { throw corrupt("\(framing.rawValue) stream does not decompress (\(status))") }
            }
        }
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }
}
