import Testing
@testable import ZarrCore

/// `BloscZstdFrame` must write exactly the bytes libblosc writes (a converter's output
/// does not depend on which of the two compressed it), and decode back.
@Suite struct BloscZstdFrameTests {
    /// Inputs that exercise every rule: below blosc's 128-byte minimum, one block, many
    /// blocks with and without a leftover, sizes not a multiple of the type size, data that
    /// does not compress (random bytes: blosc stores blocks or the frame as they are), all
    /// one value, and a slide-like 8-bit RGB inner chunk.
    static let inputs: [[UInt8]] = {
        var random: UInt64 = 7
        func noise(_ n: Int) -> [UInt8] {
            (0..<n).map { _ in
                random = random &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: random >> 33)
            }
        }
        let smooth = (0..<(3 * 256 * 256)).map { i in UInt8(truncatingIfNeeded: (i / 7) &+ (i % 256) / 3) }
        return [
            sampleBytes(100), sampleBytes(128), sampleBytes(1000), sampleBytes(32 * 1024), sampleBytes(32 * 1024 + 1),
            sampleBytes(100_003), sampleBytes(3 * 256 * 256), sampleBytes(1 << 20), noise(5000), noise(200_000),
            [UInt8](repeating: 9, count: 70_000), smooth, sampleBytes(64 * 64 * 8 + 5),
        ]
    }()

    @Test(arguments: [1, 2, 3, 5, 6, 9])
    func sameBytesAsLibblosc(clevel: Int) throws {
        for shuffle in [BloscCodec.Shuffle.noshuffle, .shuffle] {
            for typesize in [1, 2, 3, 8] {
                for blocksize in [0, 1000, 65536] {
                    let codec = BloscCodec(cname: "zstd", clevel: clevel, shuffle: shuffle, typesize: typesize, blocksize: blocksize)
                    // zstd's high levels are slow: their block-size rules need no large inputs.
                    for (i, input) in Self.inputs.enumerated() where clevel < 6 || input.count <= 33000 {
                        let expected = try codec.libbloscEncode(input)
                        let ours = BloscZstdFrame.encode(input, clevel: clevel, shuffle: shuffle == .shuffle, typesize: typesize,
                                                         forcedBlocksize: blocksize)
                        let encoded = try codec.encode(input)
                        #expect(encoded == expected, "clevel \(clevel) \(shuffle) typesize \(typesize) blocksize \(blocksize) input \(i)")
                        if let ours { #expect(ours == expected, "input \(i): the frame differs from libblosc's") }
                        #expect(try codec.decode(encoded, maxDecodedSize: input.count) == input)
                    }
                }
            }
        }
    }

    /// The frames this file writes itself are the common ones (so the test above compares
    /// something): compressible input of 128 bytes and more.
    @Test func writesTheCommonFrames() {
        #expect(BloscZstdFrame.encode(sampleBytes(3 * 256 * 256), clevel: 1, shuffle: true, typesize: 1, forcedBlocksize: 0) != nil)
        #expect(BloscZstdFrame.encode(sampleBytes(1 << 20), clevel: 5, shuffle: true, typesize: 2, forcedBlocksize: 0) != nil)
        #expect(BloscZstdFrame.encode(sampleBytes(100), clevel: 5, shuffle: true, typesize: 2, forcedBlocksize: 0) == nil)
    }

    /// Contexts are reused across levels and codecs: a zstd frame made after a blosc one
    /// at another level is the one a fresh context makes (its level is not left over).
    @Test func pooledContextsForgetTheirLevel() throws {
        let input = sampleBytes(200_000)
        let first = try ZstdCodec(level: 19).encode(input)
        _ = try BloscCodec(cname: "zstd", clevel: 1, shuffle: .shuffle, typesize: 1).encode(input)
        _ = try ZstdCodec(level: 1, checksum: true).encode(input)
        #expect(try ZstdCodec(level: 19).encode(input) == first)
        #expect(try ZstdCodec(level: 19).decode(first, maxDecodedSize: input.count) == input)
    }
}
