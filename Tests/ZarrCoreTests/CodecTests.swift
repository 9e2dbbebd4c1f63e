import Testing
@testable import ZarrCore

/// Deterministic pseudo-random bytes with some runs, so compressors have work to do.
func sampleBytes(_ n: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed
    return (0..<n).map { i in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return i % 7 == 0 ? 0 : UInt8(truncatingIfNeeded: state >> 33)
    }
}

@Suite struct CodecTests {
    static let compressors: [any BytesToBytesCodec] =
        BloscCodec.compressors.flatMap { c in
            [BloscCodec.Shuffle.noshuffle, .shuffle, .bitshuffle].map { BloscCodec(cname: c, clevel: 5, shuffle: $0, typesize: 2) }
        } + [ZstdCodec(level: 3), ZstdCodec(level: 1, checksum: true), GzipCodec(level: 5, framing: .gzip),
             GzipCodec(level: 1, framing: .zlib), CRC32CCodec()]

    @Test(arguments: 0..<compressors.count)
    func bytesToBytesRoundTrip(_ i: Int) throws {
        let codec = Self.compressors[i]
        for n in [0, 1, 17, 4096, 100_003] {
            let input = sampleBytes(n, seed: UInt64(n))
            #expect(try codec.decode(codec.encode(input), maxDecodedSize: n) == input, "\(codec.metadata) at \(n) bytes")
        }
    }

    @Test func crc32cKnownVector() {
        #expect(crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(crc32c([]) == 0)
    }

    @Test func crc32cMismatchIsAnError() throws {
        var encoded = try CRC32CCodec().encode([1, 2, 3, 4, 5])
        encoded[2] ^= 0xff
        #expect(throws: ZarrError.self) { _ = try CRC32CCodec().decode(encoded, maxDecodedSize: 5) }
    }

    @Test func corruptBloscFrameIsAnError() throws {
        // Compressible input, so the frame holds an lz4 stream rather than a memcpy block
        // (blosc has no checksum: corrupting stored raw bytes is undetectable by design).
        let input = (0..<65536).map { UInt8(truncatingIfNeeded: $0 / 64) }
        let codec = BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2)
        let encoded = try codec.encode(input)
        #expect(encoded.count < input.count / 4)
        #expect(throws: ZarrError.self) { _ = try codec.decode(Array(encoded.prefix(10)), maxDecodedSize: input.count) }
        #expect(throws: ZarrError.self) { _ = try codec.decode(Array(encoded.prefix(encoded.count / 2)), maxDecodedSize: input.count) }
        var wrongSize = encoded
        wrongSize[12] = 0xff; wrongSize[13] = 0xff; wrongSize[14] = 0xff  // cbytes beyond the buffer
        #expect(throws: ZarrError.self) { _ = try codec.decode(wrongSize, maxDecodedSize: input.count) }
        var garbage = encoded
        for i in (garbage.count / 2)..<garbage.count { garbage[i] = 0xff }
        #expect(throws: ZarrError.self) { _ = try codec.decode(garbage, maxDecodedSize: input.count) }
    }

    @Test func truncatedCompressedStreamsAreErrors() throws {
        let input = sampleBytes(50_000)
        for codec in [ZstdCodec(level: 3) as any BytesToBytesCodec, GzipCodec(level: 5, framing: .gzip)] {
            let encoded = try codec.encode(input)
            #expect(throws: ZarrError.self) { _ = try codec.decode(Array(encoded.prefix(encoded.count - 9)), maxDecodedSize: input.count) }
        }
    }

    @Test func transposeMatchesIndexArithmetic() throws {
        let shape = [2, 3, 4]
        let input = NDBuffer(dataType: .uint16, shape: shape, bytes: (0..<24).flatMap { [UInt8($0), 0] })
        let codec = TransposeCodec(order: [2, 0, 1])
        let encoded = try codec.encode(input)
        #expect(encoded.shape == [4, 2, 3])
        // encoded[k, i, j] == input[i, j, k]
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            #expect(encoded.bytes[2 * (k * 6 + i * 3 + j)] == input.bytes[2 * (i * 12 + j * 4 + k)])
        } } }
        let spec = ChunkSpec(shape: shape, dataType: .uint16, fillValue: .zero(.uint16))
        #expect(try codec.decode(encoded, into: spec) == input)
    }

    @Test func bigEndianBytesCodec() throws {
        let spec = ChunkSpec(shape: [2], dataType: .uint32, fillValue: .zero(.uint32))
        let decoded = try BytesCodec(endian: .big).decode([0, 0, 1, 2, 0xA, 0xB, 0xC, 0xD], spec: spec)
        #expect(decoded.bytes == [2, 1, 0, 0, 0xD, 0xC, 0xB, 0xA])
        #expect(throws: ZarrError.self) { try BytesCodec().decode([1, 2, 3], spec: spec) }
    }

    @Test func pipelineRejectsUnknownAndMisorderedCodecs() {
        #expect(throws: ZarrError.unsupported(key: "k", what: "codec 'fancy'")) {
            try CodecPipeline(v3: [["name": "bytes"], ["name": "fancy"]], dataType: .uint8, dimensions: 1, key: "k")
        }
        #expect(throws: ZarrError.self) { try CodecPipeline(v3: [["name": "zstd"], ["name": "bytes"]], dataType: .uint8, dimensions: 1, key: "k") }
        #expect(throws: ZarrError.self) { try CodecPipeline(v3: [["name": "zstd"]], dataType: .uint8, dimensions: 1, key: "k") }
    }
}
