@testable import ImageSources
import Testing

/// `TIFFImage`'s pixel decoding that needs no file: 1-bit samples unpacked to bytes.
@Suite struct TIFFImageTests {
    @Test func unpackBitsKeepsRowPadding() {
        // 10 pixels per row → 2 bytes per row (6 padding bits); two rows.
        let packed: [UInt8] = [0b1010_0000, 0b1100_0000, 0b0000_0001, 0b0100_0000]
        var out = [UInt8](repeating: 9, count: 20)
        let n = packed.withUnsafeBytes { p in out.withUnsafeMutableBytes { unpackBits(p.baseAddress!, count: 4, width: 10, into: $0.baseAddress!) } }
        #expect(n == 20)
        #expect(out == [1, 0, 1, 0, 0, 0, 0, 0, 1, 1,
                        0, 0, 0, 0, 0, 0, 0, 1, 0, 1])
    }
}
