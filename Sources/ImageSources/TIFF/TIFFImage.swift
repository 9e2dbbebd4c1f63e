import CPlatform
import CTIFF
import Foundation
import ZarrCore

/// An image made of same-shaped TIFF pages (one file or several): every output axis but
/// y, x and the sample axis picks a page. Regions are read tile by tile (or strip by
/// strip), so a small region costs only the tiles it touches.
final class TIFFImage: ImageSource, @unchecked Sendable {
    /// One page of the image: which file, which directory.
    struct Plane: Sendable {
        var file: Int
        var offset: UInt64
        var pageNumber: Int
    }

    let description: ImageDescription
    let layout: TIFFPageLayout
    /// Output axes that select a page, in output order; `planes` is in C order over them.
    let planeAxes: [Int]
    /// The output axis holding the samples of a pixel (RGB → c), if there are several.
    let sampleAxis: Int?
    let planes: [Plane]
    let files: [TIFFHandlePool]
    /// The alpha the colour samples are composited with (onto white) when the image shows an
    /// RGBA page as its 3 colours; nil when every sample is a channel of its own.
    let compositedAlpha: TIFFAlpha?

    init(description: ImageDescription, layout: TIFFPageLayout, planeAxes: [Int], sampleAxis: Int?,
         planes: [Plane], files: [TIFFHandlePool]) {
        var description = description
        var block = description.shape
        for a in planeAxes { block[a] = 1 }
        if let sampleAxis, layout.planarSeparate { block[sampleAxis] = 1 }
        block[block.count - 2] = layout.blockHeight
        block[block.count - 1] = layout.blockWidth
        description.readBlock = block
        self.description = description
        self.layout = layout
        self.planeAxes = planeAxes
        self.sampleAxis = sampleAxis
        self.planes = planes
        self.files = files
        compositedAlpha = sampleAxis.flatMap { description.shape[$0] == 3 && layout.samples == 4 ? layout.alpha : nil }
    }

    func read(_ region: Region) throws -> NDBuffer {
        let shape = description.shape, rank = shape.count
        guard region.origin.count == rank, Region(shape: shape).contains(region) else {
            throw SourceError(files[0].path, "region \(region) is outside the image of shape \(shape)")
        }
        let es = description.dataType.size
        let outStrides = cStrides(region.shape)
        let planeStrides = cStrides(planeAxes.map { shape[$0] })
        let rows = region.origin[rank - 2]..<(region.origin[rank - 2] + region.shape[rank - 2])
        let cols = region.origin[rank - 1]..<(region.origin[rank - 1] + region.shape[rank - 1])
        let samples = sampleAxis.map { region.origin[$0]..<(region.origin[$0] + region.shape[$0]) } ?? 0..<1
        let count = region.elementCount * es
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = count
            guard count > 0 else { return }
            let out = UnsafeMutableRawPointer(buffer.baseAddress!)
            do {
                try forEachIndex(planeAxes.map { region.shape[$0] }) { local in
                    var planeIndex = 0, outOffset = 0
                    for (k, axis) in planeAxes.enumerated() {
                        planeIndex += (local[k] + region.origin[axis]) * planeStrides[k]
                        outOffset += local[k] * outStrides[axis]
                    }
                    let target = PlaneTarget(base: out + outOffset * es, rowStride: cols.count * es,
                                             sampleStride: sampleAxis.map { outStrides[$0] * es } ?? 0)
                    try readWindow(planes[planeIndex], rows: rows, cols: cols, samples: samples, into: target)
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return NDBuffer(dataType: description.dataType, shape: region.shape, bytes: bytes)
    }

    /// Where one page's window goes in the output: rows of `rowStride` bytes, samples
    /// `sampleStride` bytes apart.
    struct PlaneTarget {
        var base: UnsafeMutableRawPointer
        var rowStride: Int
        var sampleStride: Int
    }

    private func readWindow(_ plane: Plane, rows: Range<Int>, cols: Range<Int>, samples: Range<Int>, into target: PlaneTarget) throws {
        let file = files[plane.file]
        let l = layout, es = l.dataType.size
        let interleaved = l.planarSeparate ? 1 : l.samples
        try file.withDirectory(plane.offset) { tif in
            let capacity = Int(l.tiled ? TIFFTileSize64(tif) : TIFFStripSize64(tif))
            guard capacity > 0 else { throw SourceError(file.path, "page \(plane.pageNumber) has no decodable tiles or strips") }
            let decoded = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            defer { decoded.deallocate() }
            // Bilevel blocks are spread from packed bits to one byte per pixel before copying.
            let block = l.bilevel ? UnsafeMutableRawPointer.allocate(byteCount: l.blockWidth * l.blockHeight, alignment: 16) : decoded
            defer { if l.bilevel { block.deallocate() } }
            // Planar RGBA: the alpha plane of the block, decoded before its colour planes.
            let alphaPlane = compositedAlpha != nil && l.planarSeparate ? UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16) : nil
            defer { alphaPlane?.deallocate() }
            for by in (rows.lowerBound / l.blockHeight)...((rows.upperBound - 1) / l.blockHeight) {
                let y0 = by * l.blockHeight
                let blockRows = min(l.blockHeight, l.height - y0)
                let rowLo = max(rows.lowerBound, y0), rowHi = min(rows.upperBound, y0 + blockRows)
                for bx in (cols.lowerBound / l.blockWidth)...((cols.upperBound - 1) / l.blockWidth) {
                    let x0 = bx * l.blockWidth
                    let colLo = max(cols.lowerBound, x0), colHi = min(cols.upperBound, x0 + l.blockWidth)
                    let decodeSamples: [Int] = l.planarSeparate ? Array(samples) : [samples.lowerBound]
                    let needed = ((rowHi - 1 - y0) * l.blockWidth * interleaved + (colHi - x0) * interleaved) * es
                    func checkSize(_ got: Int) throws {
                        guard got >= needed else {
                            throw SourceError(file.path, "page \(plane.pageNumber): a \(l.tiled ? "tile" : "strip") at row \(y0), column \(x0) decoded to \(got) bytes, \(needed) needed (truncated file?)")
                        }
                    }
                    if let alphaPlane {
                        try checkSize(try decodeBlock(tif, file: file, plane: plane, x: x0, y: y0, sample: 3, into: alphaPlane, capacity: capacity))
                    }
                    for s in decodeSamples {
                        var got = try decodeBlock(tif, file: file, plane: plane, x: x0, y: y0, sample: s, into: decoded, capacity: capacity)
                        if l.bilevel { got = unpackBits(decoded, count: got, width: l.blockWidth, into: block) }
                        try checkSize(got)
                        if let alpha = compositedAlpha {
                            compositeOntoWhite(block, alpha: alpha, alphaPlane: alphaPlane, rows: (rowLo - y0)..<(rowHi - y0),
                                               cols: (colLo - x0)..<(colHi - x0), rowPixels: l.blockWidth)
                        }
                        let copied: Range<Int> = l.planarSeparate ? s..<(s + 1) : samples
                        for row in rowLo..<rowHi {
                            let src = block + ((row - y0) * l.blockWidth + (colLo - x0)) * interleaved * es
                            let dstRow = target.base + (row - rows.lowerBound) * target.rowStride + (colLo - cols.lowerBound) * es
                            if es == 1, interleaved == 3, copied == 0..<3 {
                                // 8-bit RGB, the slides' case: all three planes in one pass.
                                splitRGB(from: src, to: dstRow, planeStride: target.sampleStride, count: colHi - colLo)
                                continue
                            }
                            for sample in copied {
                                let dst = dstRow + (sample - samples.lowerBound) * target.sampleStride
                                if interleaved == 1 {
                                    dst.copyMemory(from: src, byteCount: (colHi - colLo) * es)
                                } else {
                                    copyStrided(from: src + sample * es, stride: interleaved, to: dst, count: colHi - colLo, elementSize: es)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Composites the colour samples of a decoded 8-bit RGBA block onto white in place, over
    /// the block's `rows` × `cols`: interleaved RGBA (alpha 4th of each pixel), or one colour
    /// plane with its `alphaPlane`. Opaque pixels keep their colour exactly; the rule is the
    /// slides' (`PremultipliedARGB`): associated alpha is un-premultiplied first.
    private func compositeOntoWhite(_ block: UnsafeMutableRawPointer, alpha kind: TIFFAlpha, alphaPlane: UnsafeMutableRawPointer?,
                                    rows: Range<Int>, cols: Range<Int>, rowPixels: Int) {
        let p = block.assumingMemoryBound(to: UInt8.self)
        let colours = alphaPlane == nil ? 3 : 1, stride = alphaPlane == nil ? 4 : 1
        let alpha = alphaPlane.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) } ?? UnsafePointer(p + 3)
        for r in rows {
            for c in cols {
                let i = (r * rowPixels + c) * stride
                let a = UInt32(alpha[i])
                guard a != 255 else { continue }
                for k in 0..<colours {
                    let v = UInt32(p[i + k])
                    p[i + k] = kind == .associated ? PremultipliedARGB.composite(v, alpha: a, background: 255)
                        : PremultipliedARGB.blend(v, alpha: a, background: 255)
                }
            }
        }
    }

    /// Decodes the tile or strip holding pixel (x, y) of `sample`; returns its byte count.
    private func decodeBlock(_ tif: OpaquePointer, file: TIFFHandlePool, plane: Plane, x: Int, y: Int, sample: Int,
                             into block: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        tessera_clear_captured_error()
        let n: Int
        let what: String
        if layout.tiled {
            let index = TIFFComputeTile(tif, UInt32(x), UInt32(y), 0, UInt16(sample))
            what = "tile \(index) (rows \(y)–\(min(y + layout.blockHeight, layout.height) - 1), columns \(x)–\(min(x + layout.blockWidth, layout.width) - 1))"
            n = Int(TIFFReadEncodedTile(tif, index, block, tmsize_t(capacity)))
        } else {
            let index = TIFFComputeStrip(tif, UInt32(y), UInt16(sample))
            what = "strip \(index) (rows \(y)–\(min(y + layout.blockHeight, layout.height) - 1))"
            n = Int(TIFFReadEncodedStrip(tif, index, block, tmsize_t(capacity)))
        }
        guard n >= 0 else {
            throw SourceError(file.path, "page \(plane.pageNumber): cannot decode \(what)" + TIFFHandlePool.lastError(prefix: ": "))
        }
        return n
    }
}

extension TIFFImage: StoredPyramid {
    /// SubIFD k of every page, as an image, for each k that all pages have and that holds
    /// the same kind of pixels at a smaller size (how tifffile and OME-TIFF store pyramids).
    func reducedLevels() -> [any ImageSource] {
        var levels = [any ImageSource]()
        var k = 0
        while true {
            var planes = [Plane]()
            var layout: TIFFPageLayout?
            for plane in self.planes {
                guard let sub = try? files[plane.file].withDirectory(plane.offset, { tif in TIFFTags.offsets(tif, TIFFTAG_SUBIFD) }),
                      k < sub.count,
                      let page = try? files[plane.file].withDirectory(sub[k], { tif in try TIFFPage.read(tif, path: files[plane.file].path) })
                else { return levels }
                if layout == nil { layout = page.layout }
                guard page.layout.stacks(with: layout!), page.layout.samples == self.layout.samples,
                      page.layout.dataType == self.layout.dataType else { return levels }
                planes.append(Plane(file: plane.file, offset: sub[k], pageNumber: plane.pageNumber))
            }
            guard let layout, layout.width < (k == 0 ? self.layout.width : (levels.last as! TIFFImage).layout.width) || layout.height < self.layout.height else { return levels }
            var d = description
            d.shape[d.shape.count - 2] = layout.height
            d.shape[d.shape.count - 1] = layout.width
            levels.append(TIFFImage(description: d, layout: layout, planeAxes: planeAxes, sampleAxis: sampleAxis, planes: planes, files: files))
            k += 1
        }
    }
}

/// Spreads rows of packed bits (most significant bit first, each row padded to a whole
/// byte, as libtiff returns 1-bit data) to one byte per pixel, 0 or 1. Returns the bytes
/// written: whole rows only.
func unpackBits(_ packed: UnsafeRawPointer, count: Int, width: Int, into out: UnsafeMutableRawPointer) -> Int {
    let rowBytes = (width + 7) / 8
    guard rowBytes > 0 else { return 0 }
    let rows = count / rowBytes
    let src = packed.assumingMemoryBound(to: UInt8.self), dst = out.assumingMemoryBound(to: UInt8.self)
    for r in 0..<rows {
        for c in 0..<width {
            dst[r * width + c] = (src[r * rowBytes + c >> 3] >> (7 - UInt8(c & 7))) & 1
        }
    }
    return rows * width
}

/// Splits `count` interleaved 8-bit RGB pixels into three planes `planeStride` bytes apart,
/// in one pass over whole pixels (`tessera_split_rgb`: byte shuffles where the CPU has
/// them) instead of one strided copy per plane.
func splitRGB(from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer, planeStride: Int, count: Int) {
    let r = dst.assumingMemoryBound(to: UInt8.self)
    tessera_split_rgb(src.assumingMemoryBound(to: UInt8.self), r, r + planeStride, r + 2 * planeStride, count)
}

/// Copies every `stride`-th element (de-interleaves one sample of RGB-style pixels).
func copyStrided(from src: UnsafeRawPointer, stride: Int, to dst: UnsafeMutableRawPointer, count: Int, elementSize: Int) {
    func run<T>(_: T.Type) {
        let s = src.assumingMemoryBound(to: T.self), d = dst.assumingMemoryBound(to: T.self)
        for i in 0..<count { d[i] = s[i * stride] }
    }
    switch elementSize {
    case 1: run(UInt8.self)
    case 2: run(UInt16.self)
    case 4: run(UInt32.self)
    default: run(UInt64.self)
    }
}
