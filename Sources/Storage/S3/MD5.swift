import Foundation

/// MD5 (RFC 1321). Not for security: only to predict the entity tag S3 gives an object
/// made by a multipart upload, `"<md5 of the parts' binary md5s>-<part count>"`, so a
/// completion whose answer was lost can be recognised by a HEAD.
enum MD5 {
    private static let shifts: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                           5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                                           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    /// floor(|sin(i + 1)| · 2³²), as the RFC defines the table.
    private static let constants: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4294967296.0)) }

    static func digest(_ message: [UInt8]) -> [UInt8] {
        var state: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bits = UInt64(truncatingIfNeeded: message.count) &* 8
        for i in 0..<8 { padded.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * i))) }
        var words = [UInt32](repeating: 0, count: 16)
        for block in stride(from: 0, to: padded.count, by: 64) {
            for i in 0..<16 {
                let o = block + 4 * i
                words[i] = UInt32(padded[o]) | UInt32(padded[o + 1]) << 8 | UInt32(padded[o + 2]) << 16 | UInt32(padded[o + 3]) << 24
            }
            var (a, b, c, d) = (state[0], state[1], state[2], state[3])
            for i in 0..<64 {
                var f: UInt32
                let g: Int
                switch i {
                case 0..<16: f = (b & c) | (~b & d); g = i
                case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ constants[i] &+ words[g]
                (a, d, c) = (d, c, b)
                b = b &+ (f << shifts[i] | f >> (32 - shifts[i]))
            }
            state[0] = state[0] &+ a; state[1] = state[1] &+ b; state[2] = state[2] &+ c; state[3] = state[3] &+ d
        }
        return state.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) } }
    }

    /// The entity tag S3 gives the object of these parts (their entity tags, quoted or
    /// not), or nil when a part's tag is not a plain MD5 (e.g. parts encrypted with KMS).
    static func multipartETag(of partETags: [String]) -> String? {
        var joined = [UInt8]()
        for tag in partETags {
            let hex = Array(tag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).utf8)
            guard hex.count == 32 else { return nil }
            for i in stride(from: 0, to: 32, by: 2) {
                guard let byte = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
                joined.append(byte)
            }
        }
        return "\"" + digest(joined).map { String(format: "%02x", $0) }.joined() + "-\(partETags.count)\""
    }
}
