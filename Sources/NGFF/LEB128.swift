/// Unsigned LEB128 varints (7 bits a byte, low bits first, high bit: more follow) and
/// zigzag signed values, for the compact stored statistics (`ImageStatistics`, version 2).
enum LEB128 {
    static func append(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Signed to unsigned so small magnitudes of either sign stay short: 0, -1, 1, -2 … → 0, 1, 2, 3 …
    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

    /// Reads varints from `bytes`, refusing one that runs past the end or past 64 bits.
    struct Reader {
        let bytes: [UInt8]
        var at: Int
        let end: Int

        init(_ bytes: [UInt8], from start: Int, to end: Int) {
            (self.bytes, at, self.end) = (bytes, start, end)
        }

        enum Failure: Error { case ended, tooLong }

        mutating func next() throws(Failure) -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard at < end else { throw .ended }
                let b = bytes[at]
                at += 1
                // The tenth byte may carry only the 64th bit.
                guard shift < 63 || (shift == 63 && b <= 1) else { throw .tooLong }
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
        }

        /// `n` raw bytes.
        mutating func take(_ n: Int) throws(Failure) -> ArraySlice<UInt8> {
            guard n <= end - at else { throw .ended }
            at += n
            return bytes[(at - n)..<at]
        }
    }
}
