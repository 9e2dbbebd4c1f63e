import CDeflate
import ZarrCore

/// PNG written by hand: signature, IHDR, one IDAT (the filtered rows as a zlib stream from
/// `FastDeflate`: literals and runs, no match finder) and IEND; libdeflate for the CRCs. Every row uses filter 1 (Sub); 16-bit samples are
/// big-endian as PNG wants. No gAMA/cHRM chunks, so viewers show the values as they are
/// (libpng's simplified API adds gAMA 1.0 to 16-bit files, which browsers then brighten).
/// Numbers against libdeflate and zlib level 1: Docs/render.md, "Encoders".
public enum PNGEncoder {
    public static func encode(_ image: DisplayImage) throws -> [UInt8] {
        let bytesPerSample = image.bits / 8
        let bytesPerPixel = bytesPerSample * image.samplesPerPixel
        guard image.width > 0, image.height > 0, image.width <= Int(Int32.max), image.height <= Int(Int32.max),
              let rowBytes = checkedProduct([image.width, bytesPerPixel]),
              let filtered = checkedProduct([image.height, rowBytes + 1]) else {
            throw RenderError.encoder("PNG of \(image.width)×\(image.height) is too large")
        }
        let raw = [UInt8](unsafeUninitializedCapacity: filtered) { buffer, initialized in
            image.bytes.withUnsafeBufferPointer { source in
                filterSub(source.baseAddress!, buffer.baseAddress!, height: image.height, rowBytes: rowBytes,
                          bytesPerPixel: bytesPerPixel, swap16: bytesPerSample == 2)
            }
            initialized = filtered
        }
        let zlib = try compress(raw)
        guard zlib.count <= Int(Int32.max) else { throw RenderError.encoder("PNG rows compress to more than a chunk holds") }

        var out = [UInt8]()
        out.reserveCapacity(zlib.count + 64)
        out += [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian32(UInt32(image.width)) + bigEndian32(UInt32(image.height))
        header += [UInt8(image.bits), image.samplesPerPixel == 3 ? 2 : 0, 0, 0, 0]  // depth, colour type, deflate, filter set 0, no interlace
        chunk(&out, "IHDR", header)
        chunk(&out, "IDAT", zlib)
        chunk(&out, "IEND", [])
        return out
    }

    /// The filtered rows as a zlib stream. `FastDeflate` first: on the noisy pictures
    /// microscopes and cameras make it is ~3x faster than a match finder and as small. But a
    /// Huffman code spends at least a bit a byte, so on rows it takes below 2 bits a byte
    /// (smooth gradients: repeating patterns of small differences, which matches code far
    /// tighter — 7.5x zlib level 1's size on one) libdeflate level 1 is tried too, cheap on
    /// such redundant data, and the smaller stream kept.
    static func compress(_ raw: [UInt8]) throws -> [UInt8] {
        let fast = raw.withUnsafeBytes { FastDeflate.zlib($0) }
        guard fast.count * 4 < raw.count else { return fast }
        guard let compressor = libdeflate_alloc_compressor(1) else { throw RenderError.encoder("libdeflate could not allocate a compressor") }
        defer { libdeflate_free_compressor(compressor) }
        // Only a stream smaller than the fast one is worth having: that bounds the output.
        var matched = [UInt8](repeating: 0, count: fast.count)
        let written = raw.withUnsafeBytes { r in
            matched.withUnsafeMutableBytes { z in libdeflate_zlib_compress(compressor, r.baseAddress, r.count, z.baseAddress, z.count) }
        }
        guard written > 0 else { return fast }  // 0: it did not fit, so it is not smaller
        matched.removeLast(matched.count - written)
        return matched
    }

    /// Filter type 1 (Sub) on every row: each byte minus the same byte of the pixel to
    /// its left, after the filter-type byte; 16-bit samples are swapped to big-endian on
    /// the way (the pixel width is even then, so the swap and the left neighbour commute).
    static func filterSub(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, height: Int, rowBytes: Int,
                          bytesPerPixel: Int, swap16: Bool) {
        for y in 0..<height {
            let s = src + y * rowBytes, d = dst + y * (rowBytes + 1) + 1
            d[-1] = 1
            if swap16 {
                var x = 0
                while x < rowBytes {
                    d[x] = s[x + 1]
                    d[x + 1] = s[x]
                    x += 2
                }
                // Now d holds the big-endian row; take differences from the right end so
                // each byte still sees its unfiltered left neighbour.
                var i = rowBytes - 1
                while i >= bytesPerPixel {
                    d[i] = d[i] &- d[i - bytesPerPixel]
                    i -= 1
                }
            } else {
                for x in 0..<min(bytesPerPixel, rowBytes) { d[x] = s[x] }
                var x = bytesPerPixel
                while x < rowBytes {
                    d[x] = s[x] &- s[x - bytesPerPixel]
                    x += 1
                }
            }
        }
    }

    static func chunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian32(UInt32(data.count))
        out += typeBytes
        out += data
        var crc = typeBytes.withUnsafeBytes { libdeflate_crc32(0, $0.baseAddress, $0.count) }
        crc = data.withUnsafeBytes { libdeflate_crc32(crc, $0.baseAddress, $0.count) }
        out += bigEndian32(crc)
    }

    static func bigEndian32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}
