import CDeflate
@testable import Render
import Testing
import TestSupport

/// PNG files taken apart again: chunk layout, CRCs, and the inflated, unfiltered rows
/// equal to the samples given (16-bit big-endian).
@Suite struct PNGEncoderTests {
    struct Chunk { var type: String; var data: [UInt8] }

    func chunks(_ png: [UInt8]) throws -> [Chunk] {
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var out = [Chunk](), i = 8
        while i < png.count {
            let n = Int(png[i]) << 24 | Int(png[i + 1]) << 16 | Int(png[i + 2]) << 8 | Int(png[i + 3])
            let type = String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self)
            let data = Array(png[(i + 8)..<(i + 8 + n)])
            let stored = UInt32(png[i + 8 + n]) << 24 | UInt32(png[i + 9 + n]) << 16 | UInt32(png[i + 10 + n]) << 8 | UInt32(png[i + 11 + n])
            let crc = Array(png[(i + 4)..<(i + 8 + n)]).withUnsafeBytes { libdeflate_crc32(0, $0.baseAddress, $0.count) }
            #expect(crc == stored, "CRC of \(type)")
            out.append(Chunk(type: type, data: data))
            i += 12 + n
        }
        return out
    }

    /// The samples back from IDAT: inflate, then undo filter Sub row by row.
    func samples(_ png: [UInt8], width: Int, height: Int, bytesPerPixel: Int) throws -> [UInt8] {
        let idat = try chunks(png).filter { $0.type == "IDAT" }.flatMap(\.data)
        let rowBytes = width * bytesPerPixel
        var raw = [UInt8](repeating: 0, count: height * (rowBytes + 1))
        let d = libdeflate_alloc_decompressor()!
        defer { libdeflate_free_decompressor(d) }
        var actual = 0
        let rc = idat.withUnsafeBytes { src in
            raw.withUnsafeMutableBytes { dst in libdeflate_zlib_decompress(d, src.baseAddress, src.count, dst.baseAddress, dst.count, &actual) }
        }
        #expect(rc == LIBDEFLATE_SUCCESS && actual == raw.count)
        var out = [UInt8]()
        for y in 0..<height {
            let row = Array(raw[(y * (rowBytes + 1))..<((y + 1) * (rowBytes + 1))])
            #expect(row[0] == 1, "filter Sub")
            var line = [UInt8](repeating: 0, count: rowBytes)
            for x in 0..<rowBytes { line[x] = row[x + 1] &+ (x >= bytesPerPixel ? line[x - bytesPerPixel] : 0) }
            out += line
        }
        return out
    }

    @Test func gray8RoundTrips() throws {
        let pixels: [UInt8] = (0..<(7 * 5)).map { UInt8(($0 * 37) % 256) }
        let png = try PNGEncoder.encode(DisplayImage(width: 7, height: 5, samplesPerPixel: 1, bits: 8, bytes: pixels))
        let parts = try chunks(png)
        #expect(parts.map(\.type) == ["IHDR", "IDAT", "IEND"], "no gAMA or cHRM")
        #expect(parts[0].data == [0, 0, 0, 7, 0, 0, 0, 5, 8, 0, 0, 0, 0])
        #expect(try samples(png, width: 7, height: 5, bytesPerPixel: 1) == pixels)
    }

    @Test func gray16IsBigEndian() throws {
        let values: [UInt16] = [0, 1, 256, 65535, 4660, 43981]
        let png = try PNGEncoder.encode(DisplayImage(width: 3, height: 2, samplesPerPixel: 1, bits: 16, bytes: TestImages.bytes(values)))
        #expect(try chunks(png)[0].data[8...9] == [16, 0])
        #expect(try samples(png, width: 3, height: 2, bytesPerPixel: 2) == values.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
    }

    @Test func rgb8RoundTrips() throws {
        let pixels: [UInt8] = (0..<(4 * 3 * 3)).map { UInt8(($0 * 91) % 256) }
        let png = try PNGEncoder.encode(DisplayImage(width: 4, height: 3, samplesPerPixel: 3, bits: 8, bytes: pixels))
        #expect(try chunks(png)[0].data[8...9] == [8, 2])
        #expect(try samples(png, width: 4, height: 3, bytesPerPixel: 3) == pixels)
    }

    /// The filtered rows of a gray 8-bit picture, as `encode` makes them.
    func filteredRows(_ pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: height * (width + 1)) { buffer, initialized in
            pixels.withUnsafeBufferPointer {
                PNGEncoder.filterSub($0.baseAddress!, buffer.baseAddress!, height: height, rowBytes: width, bytesPerPixel: 1, swap16: false)
            }
            initialized = height * (width + 1)
        }
    }

    func libdeflateLevel1(_ raw: [UInt8]) throws -> [UInt8] {
        let c = try #require(libdeflate_alloc_compressor(1))
        defer { libdeflate_free_compressor(c) }
        var out = [UInt8](repeating: 0, count: libdeflate_zlib_compress_bound(c, raw.count))
        let n = raw.withUnsafeBytes { r in out.withUnsafeMutableBytes { libdeflate_zlib_compress(c, r.baseAddress, r.count, $0.baseAddress, $0.count) } }
        return Array(out.prefix(n))
    }

    /// A smooth gradient filters to a repeating pattern of small steps that a Huffman code
    /// alone cannot take below a bit a byte: the encoder keeps libdeflate's smaller stream.
    @Test func smoothGradientIsAsSmallAsAMatchFinderMakesIt() throws {
        let (w, h) = (600, 400)
        let pixels = (0..<(w * h)).map { i in UInt8((i % w + (i / w) / 2) * 255 / (w + h / 2)) }
        let raw = filteredRows(pixels, width: w, height: h)
        let fast = raw.withUnsafeBytes { FastDeflate.zlib($0) }
        let matched = try libdeflateLevel1(raw)
        #expect(matched.count * 2 < fast.count, "the case this guards: \(matched.count) against \(fast.count)")
        let png = try PNGEncoder.encode(DisplayImage(width: w, height: h, samplesPerPixel: 1, bits: 8, bytes: pixels))
        let idat = try chunks(png).filter { $0.type == "IDAT" }.flatMap(\.data)
        #expect(idat.count == matched.count)
        #expect(try samples(png, width: w, height: h, bytesPerPixel: 1) == pixels)
    }

    /// Noise (the usual camera picture) takes the fast path alone.
    @Test func noisyPictureKeepsTheFastStream() throws {
        var rng = SplitMix64(seed: 29)
        let (w, h) = (300, 200)
        let pixels = (0..<(w * h)).map { _ in UInt8(truncatingIfNeeded: 100 + Int(rng.next() % 24)) }
        let raw = filteredRows(pixels, width: w, height: h)
        #expect(try PNGEncoder.compress(raw) == raw.withUnsafeBytes { FastDeflate.zlib($0) })
        let png = try PNGEncoder.encode(DisplayImage(width: w, height: h, samplesPerPixel: 1, bits: 8, bytes: pixels))
        #expect(try samples(png, width: w, height: h, bytesPerPixel: 1) == pixels)
    }
}
