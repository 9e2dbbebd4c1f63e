@preconcurrency import CTIFF
import CPlatform
import ZarrCore

/// TIFF of data values (Docs/render.md, "Data output"), written by libtiff into memory
/// through client procedures: nothing touches the disk. The dtype is kept (bits per
/// sample and SampleFormat uint/int/IEEE float), uncompressed, little-endian.
/// Several channels are **pages** (one page per channel, in the order asked), and the
/// first page's ImageDescription is a JSON object holding `"shape": [c, y, x]` (tifffile's
/// "shaped" convention, so `tifffile.imread` returns the `(c, y, x)` array) and the render's
/// description (image, level, region, subtraction).
public enum TIFFEncoder {
    public static func encode(dataType: DataType, shape: [Int], data: [UInt8], description: JSONValue) throws -> [UInt8] {
        let (pages, height, width) = shape.count == 3 ? (shape[0], shape[1], shape[2]) : (1, shape[0], shape[1])
        let bytesPerValue = dataType.size
        let rowBytes = width * bytesPerValue
        guard data.count == pages * height * rowBytes, width > 0, height > 0,
              let width32 = UInt32(exactly: width), let height32 = UInt32(exactly: height) else {
            throw RenderError.encoder("TIFF: \(data.count) bytes do not make the shape \(shape)")
        }
        var describedShape: [String: JSONValue] = description.objectValue ?? [:]
        describedShape["shape"] = .array(shape.map { .int(Int64($0)) })
        let text = String(decoding: JSONValue.object(describedShape).compactSerialized(), as: UTF8.self)

        let file = MemoryFile()
        tessera_tiff_route_errors()
        tessera_clear_captured_error()
        let handle = Unmanaged.passRetained(file)
        defer { handle.release() }
        guard let tif = TIFFClientOpen("render.tif", "wl", handle.toOpaque(), MemoryFile.read, MemoryFile.write, MemoryFile.seek,
                                       MemoryFile.close, MemoryFile.size, MemoryFile.map, MemoryFile.unmap) else {
            throw RenderError.encoder("TIFF: \(String(cString: tessera_captured_error()))")
        }
        var closed = false
        defer { if !closed { TIFFClose(tif) } }
        // About 64 KiB per strip: few strips, small buffers.
        let rowsPerStrip = UInt32(max(1, min(height, (64 << 10) / max(rowBytes, 1))))
        for page in 0..<pages {
            var ok = tessera_tiff_set_u32(tif, UInt32(TIFFTAG_IMAGEWIDTH), width32) == 1
            ok = ok && tessera_tiff_set_u32(tif, UInt32(TIFFTAG_IMAGELENGTH), height32) == 1
            ok = ok && tessera_tiff_set_u16(tif, UInt32(TIFFTAG_BITSPERSAMPLE), UInt16(bytesPerValue * 8)) == 1
            ok = ok && tessera_tiff_set_u16(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), 1) == 1
            ok = ok && tessera_tiff_set_u16(tif, UInt32(TIFFTAG_SAMPLEFORMAT), sampleFormat(dataType)) == 1
            ok = ok && tessera_tiff_set_u16(tif, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(PHOTOMETRIC_MINISBLACK)) == 1
            ok = ok && tessera_tiff_set_u16(tif, UInt32(TIFFTAG_PLANARCONFIG), UInt16(PLANARCONFIG_CONTIG)) == 1
            ok = ok && tessera_tiff_set_u16(tif, UInt32(TIFFTAG_COMPRESSION), UInt16(COMPRESSION_NONE)) == 1
            ok = ok && tessera_tiff_set_u32(tif, UInt32(TIFFTAG_ROWSPERSTRIP), rowsPerStrip) == 1
            if page == 0 { ok = ok && tessera_tiff_set_string(tif, UInt32(TIFFTAG_IMAGEDESCRIPTION), text) == 1 }
            guard ok else { throw RenderError.encoder("TIFF: cannot set the tags of page \(page): \(String(cString: tessera_captured_error()))") }
            let pageStart = page * height * rowBytes
            var row = 0
            var strip: UInt32 = 0
            while row < height {
                let rows = min(Int(rowsPerStrip), height - row)
                let start = pageStart + row * rowBytes, count = rows * rowBytes
                let written = data.withUnsafeBytes { raw in
                    TIFFWriteEncodedStrip(tif, strip, UnsafeMutableRawPointer(mutating: raw.baseAddress! + start), tmsize_t(count))
                }
                guard written == count else {
                    throw RenderError.encoder("TIFF: writing strip \(strip) of page \(page) failed: \(String(cString: tessera_captured_error()))")
                }
                row += rows
                strip += 1
            }
            guard TIFFWriteDirectory(tif) == 1 else {
                throw RenderError.encoder("TIFF: writing page \(page) failed: \(String(cString: tessera_captured_error()))")
            }
        }
        TIFFClose(tif)
        closed = true
        return file.bytes
    }

    static func sampleFormat(_ t: DataType) -> UInt16 {
        switch t {
        case .float16, .float32, .float64: return UInt16(SAMPLEFORMAT_IEEEFP)
        case .int8, .int16, .int32, .int64: return UInt16(SAMPLEFORMAT_INT)
        case .bool, .uint8, .uint16, .uint32, .uint64: return UInt16(SAMPLEFORMAT_UINT)
        }
    }
}

/// A growable byte buffer libtiff reads, writes and seeks in (its `thandle_t`).
final class MemoryFile {
    var bytes: [UInt8] = []
    var position = 0

    static func of(_ h: thandle_t?) -> MemoryFile { Unmanaged<MemoryFile>.fromOpaque(h!).takeUnretainedValue() }

    static let read: TIFFReadWriteProc = { h, buffer, n in
        let f = of(h)
        let count = max(0, min(Int(n), f.bytes.count - f.position))
        if count > 0, let buffer {
            f.bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + f.position, byteCount: count) }
            f.position += count
        }
        return tmsize_t(count)
    }

    static let write: TIFFReadWriteProc = { h, buffer, n in
        let f = of(h)
        let count = Int(n)
        guard count >= 0, let buffer else { return 0 }
        let end = f.position + count
        if end > f.bytes.count { f.bytes += [UInt8](repeating: 0, count: end - f.bytes.count) }
        f.bytes.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: f.position).copyMemory(from: buffer, byteCount: count) }
        f.position = end
        return n
    }

    static let seek: TIFFSeekProc = { h, offset, whence in
        let f = of(h)
        let base: Int
        switch whence {
        case SEEK_CUR: base = f.position
        case SEEK_END: base = f.bytes.count
        default: base = 0
        }
        // Offsets arrive as unsigned 64-bit; a relative seek backwards wraps around.
        let target = base &+ Int(truncatingIfNeeded: offset)
        guard target >= 0, target <= 1 << 40 else { return toff_t.max }
        if target > f.bytes.count { f.bytes += [UInt8](repeating: 0, count: target - f.bytes.count) }
        f.position = target
        return toff_t(target)
    }

    static let close: TIFFCloseProc = { _ in 0 }
    static let size: TIFFSizeProc = { h in toff_t(of(h).bytes.count) }
    static let map: TIFFMapFileProc = { _, _, _ in 0 }
    static let unmap: TIFFUnmapFileProc = { _, _, _ in }
}
