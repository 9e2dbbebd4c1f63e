import CPlatform
import CTIFF
import ZarrCore

/// How one TIFF directory (page) stores its pixels: what the region reader needs.
struct TIFFPageLayout: Equatable, Sendable {
    var width: Int
    var height: Int
    var samples: Int
    var dataType: DataType
    var planarSeparate: Bool
    var tiled: Bool
    /// Tile size, or for strips the full width × rows per strip.
    var blockWidth: Int
    var blockHeight: Int
    /// True for 1-bit (bilevel) pages: libtiff hands back rows of packed bits, which the
    /// reader spreads to one uint8 (0 or 1) per pixel.
    var bilevel = false
    /// Red, green, blue samples (photometric RGB, or YCbCr that libjpeg turns into RGB).
    var rgb = false
    /// The alpha of an 8-bit RGBA page (its 4th sample, by ExtraSamples): the reader
    /// composites the colour onto white and gives 3 samples (Docs/convert.md, "Data").
    var alpha: TIFFAlpha?

    /// Samples per pixel in the image: an 8-bit RGBA page gives its 3 composited colours.
    var imageSamples: Int { alpha == nil ? samples : 3 }
    /// An 8-bit RGB(A) picture: its channels are red, green and blue over 0–255.
    var isRGBPicture: Bool { rgb && dataType == .uint8 && imageSamples == 3 }

    /// Whether two pages can be stacked into one array.
    func stacks(with other: TIFFPageLayout) -> Bool {
        width == other.width && height == other.height && samples == other.samples && dataType == other.dataType
            && bilevel == other.bilevel && alpha == other.alpha
    }
}

/// One directory of a TIFF file: where it is and what it holds.
/// What a 4th sample of an RGB page is (TIFF ExtraSamples 1 and 2).
enum TIFFAlpha: Sendable, Equatable {
    /// Colour already multiplied by alpha.
    case associated
    /// Colour as is, alpha beside it.
    case unassociated
}

struct TIFFPage: Sendable {
    var offset: UInt64
    var layout: TIFFPageLayout
    var reducedResolution: Bool
    var description: String?
    var subIFDs: [UInt64]
    var tags: [String: JSONValue]
}

enum TIFFTags {
    static func u16(_ tif: OpaquePointer, _ tag: Int32, defaulted: Bool = false) -> UInt16? {
        var v: UInt16 = 0
        let ok = defaulted ? tessera_tiff_get_defaulted_u16(tif, UInt32(tag), &v) : tessera_tiff_get_u16(tif, UInt32(tag), &v)
        return ok == 1 ? v : nil
    }

    static func u32(_ tif: OpaquePointer, _ tag: Int32, defaulted: Bool = false) -> UInt32? {
        var v: UInt32 = 0
        let ok = defaulted ? tessera_tiff_get_defaulted_u32(tif, UInt32(tag), &v) : tessera_tiff_get_u32(tif, UInt32(tag), &v)
        return ok == 1 ? v : nil
    }

    static func float(_ tif: OpaquePointer, _ tag: Int32) -> Float? {
        var v: Float = 0
        return tessera_tiff_get_float(tif, UInt32(tag), &v) == 1 ? v : nil
    }

    static func string(_ tif: OpaquePointer, _ tag: Int32) -> String? {
        var p: UnsafeMutablePointer<CChar>?
        guard tessera_tiff_get_string(tif, UInt32(tag), &p) == 1, let p else { return nil }
        return String(cString: p)
    }

    static func u16Array(_ tif: OpaquePointer, _ tag: Int32) -> [UInt16] {
        var count: UInt16 = 0
        var p: UnsafeMutablePointer<UInt16>?
        guard tessera_tiff_get_u16_array(tif, UInt32(tag), &count, &p) == 1, let p else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: Int(count)))
    }

    static func offsets(_ tif: OpaquePointer, _ tag: Int32) -> [UInt64] {
        var count: UInt16 = 0
        var p: UnsafeMutablePointer<UInt64>?
        guard tessera_tiff_get_u64_array(tif, UInt32(tag), &count, &p) == 1, let p else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: Int(count)))
    }
}

extension TIFFPage {
    /// Reads the current directory of `tif`. Throws for layouts Tessera cannot turn into
    /// an array (odd bit depths, 1-bit with several samples).
    static func read(_ tif: OpaquePointer, path: String) throws -> TIFFPage {
        guard let width = TIFFTags.u32(tif, TIFFTAG_IMAGEWIDTH), let height = TIFFTags.u32(tif, TIFFTAG_IMAGELENGTH) else {
            throw SourceError(path, "a TIFF directory has no image width or length")
        }
        let bits = Int(TIFFTags.u16(tif, TIFFTAG_BITSPERSAMPLE, defaulted: true) ?? 1)
        let samples = Int(TIFFTags.u16(tif, TIFFTAG_SAMPLESPERPIXEL, defaulted: true) ?? 1)
        let format = Int(TIFFTags.u16(tif, TIFFTAG_SAMPLEFORMAT, defaulted: true) ?? 1)
        let planar = TIFFTags.u16(tif, TIFFTAG_PLANARCONFIG, defaulted: true) ?? 1
        let compression = TIFFTags.u16(tif, TIFFTAG_COMPRESSION, defaulted: true) ?? 1
        let photometric = TIFFTags.u16(tif, TIFFTAG_PHOTOMETRIC)
        // Bilevel (document scans, masks): one bit per pixel, read as uint8 0/1 as tifffile does.
        let bilevel = bits == 1 && format == 1
        if bilevel, samples != 1 {
            throw SourceError(path, "1-bit TIFF with \(samples) samples per pixel is not supported")
        }
        guard let dataType = bilevel ? .uint8 : dataType(bits: bits, format: format) else {
            throw SourceError(path, "TIFF samples of \(bits) bits with sample format \(format) are not supported")
        }
        if let depth = TIFFTags.u32(tif, TIFFTAG_IMAGEDEPTH), depth > 1 {
            throw SourceError(path, "volumetric TIFF tiles (ImageDepth \(depth)) are not supported")
        }
        // RGB: photometric RGB, or YCbCr JPEG (TIFFHandlePool asks libjpeg for RGB).
        let rgb = photometric == UInt16(PHOTOMETRIC_RGB)
            || (photometric == UInt16(PHOTOMETRIC_YCBCR) && (compression == UInt16(COMPRESSION_JPEG) || compression == UInt16(COMPRESSION_OJPEG)))
        let extraSamples = TIFFTags.u16Array(tif, TIFFTAG_EXTRASAMPLES)
        var alpha: TIFFAlpha?
        if rgb, samples == 4, dataType == .uint8, let first = extraSamples.first {
            alpha = first == UInt16(EXTRASAMPLE_ASSOCALPHA) ? .associated : first == UInt16(EXTRASAMPLE_UNASSALPHA) ? .unassociated : nil
        }
        let tiled = TIFFIsTiled(tif) != 0
        var blockWidth = Int(width), blockHeight = Int(height)
        if tiled {
            blockWidth = Int(TIFFTags.u32(tif, TIFFTAG_TILEWIDTH) ?? 0)
            blockHeight = Int(TIFFTags.u32(tif, TIFFTAG_TILELENGTH) ?? 0)
            guard blockWidth > 0, blockHeight > 0 else { throw SourceError(path, "a tiled TIFF directory has no tile size") }
        } else {
            blockHeight = min(Int(height), Int(TIFFTags.u32(tif, TIFFTAG_ROWSPERSTRIP, defaulted: true) ?? height))
        }
        let layout = TIFFPageLayout(width: Int(width), height: Int(height), samples: samples, dataType: dataType,
                                    planarSeparate: planar == UInt16(PLANARCONFIG_SEPARATE) && samples > 1,
                                    tiled: tiled, blockWidth: blockWidth, blockHeight: max(1, blockHeight), bilevel: bilevel,
                                    rgb: rgb, alpha: alpha)
        let subfile = TIFFTags.u32(tif, TIFFTAG_SUBFILETYPE) ?? 0
        let description = TIFFTags.string(tif, TIFFTAG_IMAGEDESCRIPTION)
        var tags: [String: JSONValue] = [
            "ImageWidth": JSONValue(Int(width)), "ImageLength": JSONValue(Int(height)), "BitsPerSample": JSONValue(bits),
            "SamplesPerPixel": JSONValue(samples), "SampleFormat": JSONValue(format), "Compression": JSONValue(Int(compression)),
            "PlanarConfiguration": JSONValue(Int(planar)),
        ]
        if let photometric { tags["PhotometricInterpretation"] = JSONValue(Int(photometric)) }
        if !extraSamples.isEmpty { tags["ExtraSamples"] = JSONValue(extraSamples.map(Int.init)) }
        if tiled {
            tags["TileWidth"] = JSONValue(blockWidth)
            tags["TileLength"] = JSONValue(blockHeight)
        } else {
            tags["RowsPerStrip"] = JSONValue(blockHeight)
        }
        for (name, tag) in [("Software", TIFFTAG_SOFTWARE), ("DateTime", TIFFTAG_DATETIME), ("Artist", TIFFTAG_ARTIST),
                            ("Make", TIFFTAG_MAKE), ("Model", TIFFTAG_MODEL), ("DocumentName", TIFFTAG_DOCUMENTNAME)] {
            if let s = TIFFTags.string(tif, tag) { tags[name] = .string(s) }
        }
        if let x = TIFFTags.float(tif, TIFFTAG_XRESOLUTION) { tags["XResolution"] = .double(Double(x)) }
        if let y = TIFFTags.float(tif, TIFFTAG_YRESOLUTION) { tags["YResolution"] = .double(Double(y)) }
        if let u = TIFFTags.u16(tif, TIFFTAG_RESOLUTIONUNIT) { tags["ResolutionUnit"] = JSONValue(Int(u)) }
        return TIFFPage(offset: TIFFCurrentDirOffset(tif), layout: layout, reducedResolution: subfile & 1 != 0,
                        description: description, subIFDs: TIFFTags.offsets(tif, TIFFTAG_SUBIFD), tags: tags)
    }

    /// A TIFF Compression code as `tessera info` names it.
    static func compressionName(_ code: Int) -> String {
        switch code {
        case 1: return "none"
        case 5: return "LZW"
        case 6, 7: return "JPEG"
        case 8, 32946: return "deflate"
        case 32773: return "PackBits"
        case 33003, 33005: return "JPEG 2000 (Aperio \(code))"
        case 34887: return "LERC"
        case 50000: return "zstd"
        case 34925: return "LZMA"
        default: return "TIFF compression \(code)"
        }
    }

    /// What `tessera info` says about a TIFF file as a whole: its pages and their compressions.
    static func details(_ pages: [TIFFPage]) -> [(label: String, value: String)] {
        var codes = [Int]()
        for page in pages {
            if let c = page.tags["Compression"]?.intValue, !codes.contains(c) { codes.append(c) }
        }
        return [("pages", String(pages.count)), ("compression", codes.map(compressionName).joined(separator: ", "))]
    }

    static func dataType(bits: Int, format: Int) -> DataType? {
        switch (format, bits) {
        case (1, 8), (4, 8): return .uint8
        case (1, 16), (4, 16): return .uint16
        case (1, 32), (4, 32): return .uint32
        case (1, 64), (4, 64): return .uint64
        case (2, 8): return .int8
        case (2, 16): return .int16
        case (2, 32): return .int32
        case (2, 64): return .int64
        case (3, 16): return .float16
        case (3, 32): return .float32
        case (3, 64): return .float64
        default: return nil
        }
    }

    /// Pixel size in micrometres from the resolution tags, when they are in centimetres
    /// (inch-based values are almost always a meaningless 72 dpi default).
    var micrometresPerPixel: (y: Double, x: Double)? {
        guard tags["ResolutionUnit"]?.intValue == Int(RESUNIT_CENTIMETER),
              let xr = tags["XResolution"]?.doubleValue, let yr = tags["YResolution"]?.doubleValue, xr > 0, yr > 0 else { return nil }
        return (10_000 / yr, 10_000 / xr)
    }
}

/// Every top-level directory of a TIFF file, in order.
func scanTIFFPages(_ pool: TIFFHandlePool) throws -> [TIFFPage] {
    let handle = try pool.open()
    defer { TIFFClose(handle.tif) }
    var pages = [TIFFPage]()
    repeat {
        pages.append(try TIFFPage.read(handle.tif, path: pool.path))
        tessera_clear_captured_error()
    } while TIFFReadDirectory(handle.tif) == 1
    let trailing = TIFFHandlePool.lastError(prefix: "")
    if !trailing.isEmpty, !trailing.contains("Sanity check") {
        throw SourceError(pool.path, "damaged TIFF directory after page \(pages.count): \(trailing)")
    }
    return pages
}
