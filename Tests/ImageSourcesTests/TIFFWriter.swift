import CTIFF
import Foundation

/// Writes small TIFFs with libtiff itself, so reader tests do not depend on Python.
struct TIFFWriter {
    var width: Int
    var height: Int
    var samples = 1
    var bitsPerSample = 8
    var sampleFormat: UInt16 = 1
    var planarSeparate = false
    /// Tile size, or nil for strips of `rowsPerStrip` rows.
    var tile: Int?
    var rowsPerStrip = 3
    var bigTIFF = false

    /// `pages[p]` holds one page's samples in storage order (interleaved, or plane after plane).
    func write(_ path: String, pages: [[UInt8]]) throws {
        guard let tif = TIFFOpen(path, bigTIFF ? "w8" : "w") else { throw CocoaError(.fileWriteUnknown) }
        defer { TIFFClose(tif) }
        let es = bitsPerSample / 8
        for page in pages {
            _ = tessera_tiff_set_u32(tif, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(width))
            _ = tessera_tiff_set_u32(tif, UInt32(TIFFTAG_IMAGELENGTH), UInt32(height))
            _ = tessera_tiff_set_u16(tif, UInt32(TIFFTAG_BITSPERSAMPLE), UInt16(bitsPerSample))
            _ = tessera_tiff_set_u16(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), UInt16(samples))
            _ = tessera_tiff_set_u16(tif, UInt32(TIFFTAG_SAMPLEFORMAT), sampleFormat)
            _ = tessera_tiff_set_u16(tif, UInt32(TIFFTAG_PLANARCONFIG), UInt16(planarSeparate ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG))
            _ = tessera_tiff_set_u16(tif, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(samples == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK))
            _ = tessera_tiff_set_u16(tif, UInt32(TIFFTAG_COMPRESSION), UInt16(COMPRESSION_ADOBE_DEFLATE))
            let perPixel = planarSeparate ? 1 : samples
            let planes = planarSeparate ? samples : 1
            let planeBytes = width * height * perPixel * es
            if let tile {
                _ = tessera_tiff_set_u32(tif, UInt32(TIFFTAG_TILEWIDTH), UInt32(tile))
                _ = tessera_tiff_set_u32(tif, UInt32(TIFFTAG_TILELENGTH), UInt32(tile))
                for s in 0..<planes {
                    for ty in stride(from: 0, to: height, by: tile) {
                        for tx in stride(from: 0, to: width, by: tile) {
                            var buf = [UInt8](repeating: 0, count: tile * tile * perPixel * es)
                            for y in ty..<min(ty + tile, height) {
                                let src = s * planeBytes + (y * width + tx) * perPixel * es
                                let n = (min(tx + tile, width) - tx) * perPixel * es
                                buf.replaceSubrange(((y - ty) * tile * perPixel * es)..<((y - ty) * tile * perPixel * es + n), with: page[src..<(src + n)])
                            }
                            let index = TIFFComputeTile(tif, UInt32(tx), UInt32(ty), 0, UInt16(s))
                            _ = TIFFWriteEncodedTile(tif, index, &buf, tmsize_t(buf.count))
                        }
                    }
                }
            } else {
                _ = tessera_tiff_set_u32(tif, UInt32(TIFFTAG_ROWSPERSTRIP), UInt32(rowsPerStrip))
                for s in 0..<planes {
                    for y0 in stride(from: 0, to: height, by: rowsPerStrip) {
                        let rows = min(rowsPerStrip, height - y0)
                        let start = s * planeBytes + y0 * width * perPixel * es
                        var buf = Array(page[start..<(start + rows * width * perPixel * es)])
                        let index = TIFFComputeStrip(tif, UInt32(y0), UInt16(s))
                        _ = TIFFWriteEncodedStrip(tif, index, &buf, tmsize_t(buf.count))
                    }
                }
            }
            _ = TIFFWriteDirectory(tif)
        }
    }
}
