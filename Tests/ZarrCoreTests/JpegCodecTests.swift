import Foundation
import Synchronization
import Testing
@testable import ZarrCore

/// The lossy `imagecodecs_jpeg` compressor (Zarr v2): a chunk is one grey JPEG image as
/// wide as the chunk, decoded back to exactly the chunk's elements.
@Suite struct JpegCodecTests {
    /// A slide-like `c,y,x` chunk: smooth colour gradients plus deterministic texture.
    static func rgbChunk(_ h: Int, _ w: Int) -> [UInt8] {
        let noise = sampleBytes(3 * h * w, seed: 7)
        var out = [UInt8](repeating: 0, count: 3 * h * w)
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    let i = (c * h + y) * w + x
                    let base = c == 0 ? 200 - y / 3 : c == 1 ? 60 + x / 4 : 120 + (x + y) / 8
                    out[i] = UInt8(clamping: base + Int(noise[i] % 16))
                }
            }
        }
        return out
    }

    static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        let mse = zip(a, b).reduce(0.0) { s, p in let d = Double(p.0) - Double(p.1); return s + d * d } / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// The v2 array a `tessera convert --ngff 0.4 --codec jpeg` level has: read back
    /// through the same metadata parser and codec pipeline every reader path uses.
    static func array(quality: Int = 90, shape: [Int] = [3, 300, 200], chunks: [Int] = [3, 256, 256]) throws -> ArrayMetadata {
        let json: JSONValue = [
            "zarr_format": 2, "shape": JSONValue(shape), "chunks": JSONValue(chunks), "dtype": "|u1", "fill_value": 0,
            "order": "C", "compressor": ["id": "imagecodecs_jpeg", "level": JSONValue(quality)], "filters": .null,
            "dimension_separator": "/",
        ]
        return try ArrayMetadata(v2: json, attributes: [:], key: "0/.zarray")
    }

    @Test func chunkRoundTripsWithinPSNRBoundAndExactShape() throws {
        let m = try Self.array()
        let spec = ChunkSpec(shape: [3, 256, 256], dataType: .uint8, fillValue: m.fillValue)
        let input = Self.rgbChunk(256, 256)
        let encoded = try m.codecs.encode(NDBuffer(dataType: .uint8, shape: [3, 256, 256], bytes: input), spec: spec)
        #expect(encoded.count < input.count / 3, "JPEG at quality 90 should compress: \(encoded.count) bytes")
        #expect(Array(encoded.prefix(2)) == [0xFF, 0xD8], "a JPEG stream (SOI)")
        let decoded = try m.codecs.decode(encoded, spec: spec)
        #expect(decoded.shape == [3, 256, 256])
        #expect(decoded.bytes.count == input.count)
        let psnr = Self.psnr(decoded.bytes, input)
        #expect(psnr >= 35, "PSNR \(psnr) dB at quality 90")
        #expect(psnr.isFinite, "lossy: the bytes are not all equal")
        // The quality is the codec's: more quality, less loss.
        let low = try Self.array(quality: 20).codecs
        let lowPSNR = Self.psnr(try low.decode(low.encode(NDBuffer(dataType: .uint8, shape: [3, 256, 256], bytes: input), spec: spec), spec: spec).bytes, input)
        #expect(lowPSNR < psnr)
    }

    /// Zarr v2 chunks at the array's edge are full-size: the padding (fill value) is coded
    /// with the pixels and the whole chunk decodes.
    @Test func paddedEdgeChunkDecodesWhole() throws {
        let m = try Self.array(shape: [3, 300, 200])
        let spec = ChunkSpec(shape: [3, 256, 256], dataType: .uint8, fillValue: m.fillValue)
        var input = [UInt8](repeating: 0, count: 3 * 256 * 256)
        let content = Self.rgbChunk(44, 200)
        for c in 0..<3 { for y in 0..<44 { for x in 0..<200 { input[(c * 256 + y) * 256 + x] = content[(c * 44 + y) * 200 + x] } } }
        let decoded = try m.codecs.decode(m.codecs.encode(NDBuffer(dataType: .uint8, shape: [3, 256, 256], bytes: input), spec: spec), spec: spec)
        #expect(decoded.shape == [3, 256, 256])
        #expect(Self.psnr(decoded.bytes, input) >= 30)
    }

    @Test func v2DocumentNamesImagecodecsJpeg() throws {
        let m = try Self.array(quality: 75)
        let codec = try #require(m.codecs.bytesToBytes.first as? JpegCodec)
        #expect(codec.quality == 75 && codec.rowLength == 256)
        let json = try m.v2Metadata(key: "k")
        #expect(json["compressor"] == ["id": "imagecodecs_jpeg", "level": 75])
        #expect(try ArrayMetadata(v2: json, attributes: [:], key: "k").v2Metadata(key: "k") == json)
    }

    @Test func onlyEightBitDataIsAccepted() throws {
        for type in [DataType.uint16, .int8, .float32] {
            #expect(throws: UsageError.self, "\(type)") { _ = try JpegCodec(quality: 90, dataType: type, chunkShape: [256, 256]) }
        }
        let json: JSONValue = ["zarr_format": 2, "shape": [4, 4], "chunks": [4, 4], "dtype": "<u2", "fill_value": 0,
                               "compressor": ["id": "imagecodecs_jpeg", "level": 90]]
        #expect(throws: ZarrError.self) { _ = try ArrayMetadata(v2: json, attributes: [:], key: "k") }
        // A configuration that changes decoding (abbreviated tables) is refused, not misread.
        let tables: JSONValue = ["zarr_format": 2, "shape": [4, 4], "chunks": [4, 4], "dtype": "|u1", "fill_value": 0,
                                 "compressor": ["id": "imagecodecs_jpeg", "tables": "AAAA"]]
        #expect(throws: ZarrError.self) { _ = try ArrayMetadata(v2: tables, attributes: [:], key: "k") }
    }

    @Test func qualityAndImageSizeAreChecked() throws {
        for q in [0, 101, -5] {
            #expect(throws: UsageError.self, "\(q)") { _ = try JpegCodec(quality: q, dataType: .uint8, chunkShape: [256, 256]) }
        }
        #expect(try JpegCodec(quality: nil, dataType: .uint8, chunkShape: [3, 256, 256]).quality == JpegCodec.defaultQuality)
        // 3 × 30000 rows: taller than any JPEG image.
        #expect(throws: UsageError.self) { _ = try JpegCodec(quality: 90, dataType: .uint8, chunkShape: [3, 30000, 64]) }
        #expect(throws: UsageError.self) { _ = try JpegCodec(quality: 90, dataType: .uint8, chunkShape: [1, 70000]) }
    }

    @Test func damagedStreamsAreErrors() throws {
        let codec = JpegCodec(quality: 90, rowLength: 64)
        let input = sampleBytes(64 * 64)
        let encoded = try codec.encode(input)
        #expect(throws: ZarrError.self) { _ = try codec.decode(Array(encoded.prefix(encoded.count / 2)), maxDecodedSize: input.count) }
        #expect(throws: ZarrError.self) { _ = try codec.decode([0x5A, 0x5A, 0x00, 0x01], maxDecodedSize: input.count) }
        // A valid JPEG holding more samples than the chunk: refused from its header.
        #expect(throws: ZarrError.self) { _ = try codec.decode(encoded, maxDecodedSize: input.count - 1) }
        // A byte count that is not whole rows cannot be an image of this codec's width.
        #expect(throws: ZarrError.self) { _ = try codec.encode(sampleBytes(64 * 64 + 1)) }
    }

    /// Workers encode side by side: each borrows its own libjpeg-turbo handle, so the
    /// bytes are those of a lone encode (JPEG is deterministic).
    @Test func concurrentEncodesMatchSerialOnes() throws {
        let codec = JpegCodec(quality: 85, rowLength: 128)
        let inputs = (0..<16).map { sampleBytes(3 * 128 * 128, seed: UInt64($0 + 1)) }
        let serial = try inputs.map { try codec.encode($0) }
        let results = Mutex<[Int: [UInt8]]>([:])
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let bytes = try? codec.encode(inputs[i % 16])
            results.withLock { $0[i] = bytes }
        }
        let all = results.withLock { $0 }
        for i in 0..<64 { #expect(all[i] == serial[i % 16], "encode \(i)") }
        let decoded = try codec.decode(serial[3], maxDecodedSize: inputs[3].count)
        #expect(decoded.count == inputs[3].count)
    }
}
