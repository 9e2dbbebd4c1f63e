import ImageSources
import ZarrCore

/// Refuses inputs that declare far more pixels than their file could hold — a damaged
/// header, or a decompression bomb (a small deflate TIFF declaring 10⁶ × 10⁶ pixels would
/// otherwise run for hours). With `--max-pixels N` the user sets the limit instead: up
/// to N pixels are accepted whatever the file size, more are refused.
///
/// Without it, the declared bytes may be at most the file size times the most its
/// compression can expand: 1× uncompressed, 64× PackBits, 1032× deflate (zlib's bound),
/// 2048× LZW and JPEG, and a generous 65536× for codecs without a tight bound (zstd,
/// LZMA, CCITT, JPEG 2000, …); FITS 8× (scaled integers are read as floats), 8 × 1032×
/// gzipped; DICOM by its transfer syntax; DM 1× (uncompressed, RGBA's 4 stored bytes become 3); TIFF-based slides
/// by their pages' compression (`slideExpansion`); HDF4 by its SDS's coder (`hdf4Expansion`). HDF5 is not limited this way: its chunks may legitimately
/// be absent (read as the fill value), so a tiny file can hold a huge sparse dataset.
public enum DeclaredSizeLimit {
    public static func check(_ file: SourceFile, maxPixels: Int?) throws {
        var pixels = 0, bytes = 0
        for image in file.images {
            let d = image.description
            let n = d.shape.reduce(1) { multiplyClamped($0, $1) }
            pixels = addClamped(pixels, n)
            bytes = addClamped(bytes, multiplyClamped(n, d.dataType.size))
        }
        let dims = file.images.map { $0.description.shape.map(String.init).joined(separator: "x") }.joined(separator: ", ")
        if let maxPixels {
            guard pixels <= maxPixels else {
                throw SourceError(file.path, "declares \(pixels) pixels (\(dims)), more than --max-pixels \(maxPixels)")
            }
            return
        }
        guard let (ratio, what) = expansion(file) else { return }
        let plausible = multiplyClamped(max(file.fileBytes, 1), ratio)
        guard bytes <= plausible else {
            throw SourceError(file.path, "declares \(pixels) pixels (\(dims), \(bytes) bytes) in a file of \(file.fileBytes) bytes; "
                              + "\(what) expands at most \(ratio)×, so at most \(plausible) bytes can be stored — a damaged or "
                              + "hostile file? Pass --max-pixels \(pixels) to convert it anyway")
        }
    }

    /// The most the file's compression can expand, and its name; nil = no limit known.
    static func expansion(_ file: SourceFile) -> (Int, String)? {
        switch file.format {
        case .hdf5:
            return nil
        case .fits:
            // Scaled integers (BSCALE/BZERO) are read as floats: up to 8 bytes for each
            // stored byte (BITPIX 8 → float64).
            let lower = file.path.lowercased()
            if lower.hasSuffix(".gz") { return (1032 * 8, "gzip") }
            let compressed = file.images.contains { $0.description.metadata.containsKey("ZCMPTYPE") }
            return compressed ? (65536, "tile compression") : (8, "uncompressed FITS data")
        case .tiff, .omeTIFF:
            var worst: (Int, String) = (1, "uncompressed data")
            for image in file.images {
                let tags = image.description.metadata["tags"]
                let code = tags?["Compression"]?.intValue ?? 1
                var limit = tiffExpansion(code)
                // Fewer than 8 bits per sample are read into whole bytes.
                if let bits = tags?["BitsPerSample"]?.intValue, bits > 0, bits < 8 { limit.0 = multiplyClamped(limit.0, 8 / bits + 1) }
                if limit.0 > worst.0 { worst = limit }
            }
            return worst
        case .dicom:
            // Each image's transfer syntax bounds it: 1× native (the walker has already
            // checked the frames lie in the file), 64× RLE, 2048× JPEG, 65536× JPEG-LS and
            // JPEG 2000; 4× more where a rescale is applied (stored integers → float32).
            let worst = file.images.map { DICOMOpener.expansion(of: $0.description) }.max { $0.0 < $1.0 }
            return worst ?? (1, "uncompressed data")
        case .dm:
            // DM stores pixels uncompressed, and the reader has checked that each image's
            // data lies inside the file: the declared bytes cannot exceed the file.
            return (1, "uncompressed DM data")
        case .slide:
            return slideExpansion(file)
        case .hdf4:
            return hdf4Expansion(file)
        }
    }

    /// TIFF-based slides (SVS, NDPI, SCN, BIF, Trestle) by their pages' compression: JPEG
    /// 2048× as for any TIFF, Aperio's JPEG 2000 (33003/33005) and unknown codes 65536×.
    /// Slides whose pixels live outside the opened file (MIRAX `.mrxs` + its data folder,
    /// Hamamatsu VMS/VMU + their JPEGs) or whose tiles may legitimately be absent (MIRAX gaps,
    /// Philips TIFF's sparse tiles) are not limited, as HDF5 is not.
    static func slideExpansion(_ file: SourceFile) -> (Int, String)? {
        guard let metadata = file.images.first?.description.metadata,
              metadata["vendor"]?.stringValue != "philips",
              let codes = metadata["tiff_compression"]?.arrayValue?.compactMap(\.intValue), !codes.isEmpty else { return nil }
        var worst: (Int, String) = (1, "uncompressed data")
        for code in codes {
            let limit = code == 33003 || code == 33005 ? (65536, "JPEG 2000") : tiffExpansion(code)
            if limit.0 > worst.0 { worst = limit }
        }
        return worst
    }

    /// An HDF4 SDS that is empty or chunked may be sparse (unwritten parts read as the fill
    /// value), so a tiny file may hold it, as for HDF5: no limit. Otherwise its data is one
    /// element in the file: 1× uncompressed, else the bound of its coder.
    private static func hdf4Expansion(_ file: SourceFile) -> (Int, String)? {
        var worst: (Int, String) = (1, "uncompressed data")
        for image in file.images {
            guard let storage = image.description.metadata["storage"] else { return (65536, "hdf4 compression") }
            if storage["empty"] == .bool(true) || storage["chunks"].map({ $0 != .null }) ?? true { return nil }
            let limit: (Int, String)
            switch storage["compression"]?.stringValue {
            case "none": limit = (1, "uncompressed data")
            case "deflate": limit = (1032, "deflate")
            case "rle": limit = (64, "RLE")
            case "nbit": limit = (64, "N-bit packing")
            case let other: limit = (65536, other ?? "hdf4 compression")
            }
            if limit.0 > worst.0 { worst = limit }
        }
        return worst
    }

    private static func tiffExpansion(_ code: Int) -> (Int, String) {
        switch code {
        case 1: return (1, "uncompressed data")
        case 32773: return (64, "PackBits")
        case 8, 32946: return (1032, "deflate")
        case 5: return (2048, "LZW")
        case 6, 7: return (2048, "JPEG")
        case 50000: return (65536, "zstd")
        default: return (65536, "compression \(code)")
        }
    }

    private static func multiplyClamped(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o || r < 0 ? Int.max : r
    }

    private static func addClamped(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? Int.max : r
    }
}

private extension JSONValue {
    /// Whether an object anywhere inside has `key`.
    func containsKey(_ key: String) -> Bool {
        switch self {
        case let .object(o): return o[key] != nil || o.values.contains { $0.containsKey(key) }
        case let .array(a): return a.contains { $0.containsKey(key) }
        default: return false
        }
    }
}
