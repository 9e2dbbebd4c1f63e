import CDeflate
@testable import Render
import Testing
import TestSupport

/// FastDeflate's zlib streams inflated again by libdeflate (which checks the Adler-32
/// itself) and compared byte for byte; the trailer also checked by hand.
@Suite struct FastDeflateTests {
    func roundTrip(_ input: [UInt8], _ comment: Comment? = nil) throws -> [UInt8] {
        let zlib = input.withUnsafeBytes { FastDeflate.zlib($0) }
        #expect(zlib.count >= 6)
        #expect(zlib[0] == 0x78 && (Int(zlib[0]) << 8 | Int(zlib[1])) % 31 == 0, "zlib header")
        var output = [UInt8](repeating: 0xAA, count: input.count)
        let d = try #require(libdeflate_alloc_decompressor())
        defer { libdeflate_free_decompressor(d) }
        var actualIn = 0, actualOut = 0
        let rc = zlib.withUnsafeBytes { z in
            output.withUnsafeMutableBytes { o in
                libdeflate_zlib_decompress_ex(d, z.baseAddress, z.count, o.baseAddress, o.count, &actualIn, &actualOut)
            }
        }
        #expect(rc == LIBDEFLATE_SUCCESS, comment)
        #expect(actualIn == zlib.count, "no bytes after the stream")
        #expect(actualOut == input.count, comment)
        #expect(output == input, comment)
        let adler = input.withUnsafeBytes { libdeflate_adler32(1, $0.baseAddress, $0.count) }
        let trailer = zlib.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(trailer == adler, "Adler-32 big-endian at the end")
        return zlib
    }

    @Test func tinyInputs() throws {
        _ = try roundTrip([])
        _ = try roundTrip([1])
        _ = try roundTrip([1, 0])
        _ = try roundTrip([7, 7])
    }

    @Test func allZerosShrinkToAlmostNothing() throws {
        let zlib = try roundTrip([UInt8](repeating: 0, count: 1 << 20))
        // 4,065 matches of 258 at about 2 bits each, plus block headers.
        #expect(zlib.count < 2_000, "\(zlib.count) bytes")
    }

    @Test func oneValue() throws {
        for value: UInt8 in [0, 1, 128, 255] {
            _ = try roundTrip([UInt8](repeating: value, count: 300_001), "value \(value)")
        }
    }

    @Test func everyByteValue() throws {
        _ = try roundTrip((0..<256).map { UInt8($0) })
        _ = try roundTrip((0..<(256 * 1000)).map { UInt8($0 % 256) })
    }

    /// Run lengths around deflate's limits: the shortest match (3), one over, the longest
    /// (258) and one over, each between two different bytes.
    @Test func runsOfExactLengths() throws {
        for run in [1, 2, 3, 4, 5, 257, 258, 259, 260, 261, 516, 517] {
            let input = [UInt8](repeating: 9, count: 1) + [UInt8](repeating: 5, count: run) + [3]
            _ = try roundTrip(input, "run \(run)")
        }
    }

    @Test func runsCrossingBlockBoundaries() throws {
        let slice = FastDeflate.sliceBytes
        var input = [UInt8](repeating: 1, count: 3 * slice + 17)
        for i in stride(from: 0, to: input.count, by: 1_000) { input[i] = UInt8(i % 251) }
        _ = try roundTrip(input)
        // One run from just before a boundary to just after it, on noise.
        var rng = SplitMix64(seed: 11)
        var noisy = (0..<(2 * slice + 5)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for i in (slice - 100)..<(slice + 300) { noisy[i] = 42 }
        _ = try roundTrip(noisy)
    }

    @Test func noiseGoesOutStored() throws {
        var rng = SplitMix64(seed: 7)
        let input = (0..<(300_000)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let zlib = try roundTrip(input)
        // Every slice stored: 5 bytes a chunk of at most 65,535 on top of the input, plus
        // the zlib header and trailer.
        var chunks = 0
        for start in stride(from: 0, to: input.count, by: FastDeflate.sliceBytes) {
            chunks += (min(FastDeflate.sliceBytes, input.count - start) + 65_534) / 65_535
        }
        #expect(zlib.count == 2 + input.count + 5 * chunks + 4, "\(zlib.count) bytes")
    }

    @Test func randomSizesAndContents() throws {
        var rng = SplitMix64(seed: 2026)
        for round in 0..<60 {
            let count = Int.random(in: 0...(round < 40 ? 5_000 : 400_000), using: &rng)
            // Few values with runs of random length: both literals and matches.
            let values = Int.random(in: 1...256, using: &rng)
            var input = [UInt8]()
            input.reserveCapacity(count)
            while input.count < count {
                let v = UInt8(Int.random(in: 0..<values, using: &rng))
                let run = Int.random(in: 0...8, using: &rng) == 0 ? Int.random(in: 1...600, using: &rng) : 1
                input += repeatElement(v, count: min(run, count - input.count))
            }
            _ = try roundTrip(input, "round \(round), \(count) bytes, \(values) values")
        }
    }

    /// Fibonacci counts make an unrestricted Huffman code as deep as there are symbols;
    /// deflate allows 15 bits, and the code must stay complete (Kraft sum exactly 1).
    @Test func codesAreLengthLimitedAndComplete() throws {
        var counts = [UInt32](repeating: 0, count: 286)
        var a: UInt32 = 1, b: UInt32 = 1
        for symbol in 0..<30 {
            counts[symbol] = a
            (a, b) = (b, a + b)
        }
        var unlimited = counts.indices.filter { counts[$0] > 0 }.map { Int(counts[$0]) }
        unlimited.sort()
        HuffmanCode.minimumRedundancy(&unlimited)
        #expect(unlimited.max()! > 15, "the test's counts need more than 15 bits unrestricted")

        let code = HuffmanCode(counts: counts, maxLength: 15)
        #expect(code.lengths.max() == 15)
        #expect(kraft(code.lengths, maxLength: 15) == 1 << 15)
        for symbol in 0..<30 { #expect(code.lengths[symbol] > 0) }
        for symbol in 30..<286 { #expect(code.lengths[symbol] == 0) }
        // Rarer symbols never get shorter codes.
        for symbol in 1..<30 { #expect(code.lengths[symbol] <= code.lengths[symbol - 1]) }

        // The same skew in real bytes: byte i repeated Fibonacci(i) times, shuffled so
        // there are no runs, round trips.
        var input = [UInt8]()
        a = 1; b = 1
        for symbol in 0..<22 {
            input += repeatElement(UInt8(symbol), count: Int(a))
            (a, b) = (b, a + b)
        }
        var rng = SplitMix64(seed: 3)
        input.shuffle(using: &rng)
        _ = try roundTrip(input)
    }

    @Test func codeLengthCodeIsLimitedToSeven() {
        var counts = [UInt32](repeating: 0, count: 19)
        var a: UInt32 = 1, b: UInt32 = 1
        for symbol in 0..<19 {
            counts[symbol] = a
            (a, b) = (b, a + b)
        }
        let code = HuffmanCode(counts: counts, maxLength: 7)
        #expect(code.lengths.max() == 7)
        #expect(kraft(code.lengths, maxLength: 7) == 1 << 7)
    }

    /// One used symbol still gets a complete code of two 1-bit codes.
    @Test func loneSymbolGetsACompleteCode() {
        var counts = [UInt32](repeating: 0, count: 286)
        counts[256] = 1
        let code = HuffmanCode(counts: counts, maxLength: 15)
        #expect(code.lengths[256] == 1)
        #expect(code.lengths.filter { $0 > 0 }.count == 2)
        #expect(kraft(code.lengths, maxLength: 15) == 1 << 15)
    }

    @Test func canonicalCodesAreReversed() {
        // RFC 1951 §3.2.2's example: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes
        // 010, 011, 100, 101, 110, 00, 1110, 1111.
        let code = HuffmanCode(lengths: [3, 3, 3, 3, 3, 2, 4, 4])
        let expected: [UInt16] = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111]
        for (symbol, length) in code.lengths.enumerated() {
            #expect(HuffmanCode.reversed(code.codes[symbol], bits: Int(length)) == expected[symbol], "symbol \(symbol)")
        }
    }

    func kraft(_ lengths: [UInt8], maxLength: Int) -> Int {
        lengths.filter { $0 > 0 }.reduce(0) { $0 + (1 << (maxLength - Int($1))) }
    }
}
