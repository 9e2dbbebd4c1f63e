/// The `crc32c` codec: appends a little-endian CRC-32C (Castagnoli) of the bytes, and
/// checks and strips it on decode.
public struct CRC32CCodec: BytesToBytesCodec {
    public init() {}

    public var metadata: JSONValue { codecMetadata("crc32c") }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = bytes
        let crc = crc32c(bytes)
        out.append(contentsOf: [UInt8(crc & 0xff), UInt8((crc >> 8) & 0xff), UInt8((crc >> 16) & 0xff), UInt8(crc >> 24)])
        return out
    }

    public func decode(_ bytes: [UInt8], maxDecodedSize: Int) throws -> [UInt8] {
        guard bytes.count >= 4 else { throw corrupt("crc32c: \(bytes.count) bytes cannot hold a checksum") }
        let n = bytes.count - 4
        guard n <= maxDecodedSize else { throw decodedTooLarge("crc32c", limit: maxDecodedSize) }
        let stored = UInt32(bytes[n]) | UInt32(bytes[n + 1]) << 8 | UInt32(bytes[n + 2]) << 16 | UInt32(bytes[n + 3]) << 24
        let payload = Array(bytes[0..<n])
        let actual = crc32c(payload)
        guard stored == actual else {
            throw corrupt("crc32c checksum mismatch (stored \(hex(stored)), computed \(hex(actual)))")
        }
        return payload
    }

    public func fixedEncodedSize(_ n: Int) -> Int? { checkedSum([n, 4]) }
}

private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

/// Slicing-by-8 tables for CRC-32C (reflected polynomial 0x82F63B78).
private let crcTable: [UInt32] = {
    var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
    for i in 0..<256 {
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        tables[0][i] = c
    }
    for i in 0..<256 {
        for t in 1..<8 { tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][Int(tables[t - 1][i] & 0xff)] }
    }
    return tables.flatMap { $0 }
}()

/// CRC-32C of `bytes`, eight bytes per step.
public func crc32c(_ bytes: [UInt8]) -> UInt32 {
    crcTable.withUnsafeBufferPointer { t in
        bytes.withUnsafeBytes { raw -> UInt32 in
            var crc: UInt32 = 0xFFFF_FFFF
            var i = 0
            let n = raw.count
            while i + 8 <= n {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ UInt64(crc)
                crc = t[7 * 256 + Int(word & 0xff)] ^ t[6 * 256 + Int((word >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((word >> 16) & 0xff)] ^ t[4 * 256 + Int((word >> 24) & 0xff)]
                    ^ t[3 * 256 + Int((word >> 32) & 0xff)] ^ t[2 * 256 + Int((word >> 40) & 0xff)]
                    ^ t[1 * 256 + Int((word >> 48) & 0xff)] ^ t[Int(word >> 56)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(raw[i])) & 0xff)] ^ (crc >> 8)
                i += 1
            }
            return ~crc
        }
    }
}
