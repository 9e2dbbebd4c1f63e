import CFITSIO
import Foundation
import ZarrCore

/// Opens every image HDU of a FITS file (primary and extensions, SCI/ERR/DQ style),
/// keeping each HDU's header cards as source metadata.
enum FITSOpener {
    static func open(path: String) throws -> SourceFile {
        guard FileManager.default.isReadableFile(atPath: path) else { throw SourceError(path, "cannot be opened for reading") }
        var status: Int32 = 0
        var count: Int32 = 0
        var images = [any ImageSource]()
        var probe: UnsafeMutablePointer<fitsfile>?
        var headers: JSONValue = .null
        try FITSImage.libraryLock.withLock { _ in
            _ = tessera_fits_open_readonly(&probe, path, &status)
            guard status == 0, let probe else { throw SourceError(path, "not a readable FITS file: \(message(status))") }
            _ = ffthdu(probe, &count, &status)
            // Every HDU's header (tables too) for the catalogue, in the same open as the count:
            // a header walk, no pixels.
            if status == 0 { headers = FITSHeaders.read(probe, hduCount: Int(count)) }
            var closeStatus: Int32 = 0
            _ = tessera_fits_close(probe, &closeStatus)
            if status != 0 { throw SourceError(path, "damaged FITS file: \(message(status))") }
        }
        let stem = SourceOpener.stem(path)
        for hdu in 1...max(1, Int(count)) {
            if let image = try openHDU(path: path, hdu: hdu, stem: stem) { images.append(image) }
        }
        guard !images.isEmpty else { throw SourceError(path, "the FITS file has no image HDU with 2 or more axes") }
        let compressed = images.compactMap { image -> String? in
            let m = image.description.metadata
            guard let cards = m["compression"] else { return nil }
            return "HDU \(m["hdu"]?.intValue ?? 0): \(FITSCompression.summary(cards))"
        }
        let details: [(label: String, value: String)] = compressed.isEmpty ? [] : [("compression", compressed.joined(separator: "; "))]
        return SourceFile(path: path, format: .fits, images: images, fileBytes: SourceOpener.fileSize(path), details: details,
                          harvestMetadata: headers)
    }

    /// The image at `hdu` (1-based), or nil when that HDU is a table or has < 2 axes.
    private static func openHDU(path: String, hdu: Int, stem: String) throws -> FITSImage? {
        var status: Int32 = 0
        var file: UnsafeMutablePointer<fitsfile>?
        var bitpix: Int32 = 0, naxis: Int32 = 0
        var naxes = [Int64](repeating: 0, count: 9)
        var cards = [(String, JSONValue)]()
        var isImage = false
        var compression: (cards: [String: JSONValue], tile: [Int])?
        try FITSImage.libraryLock.withLock { _ in
            _ = tessera_fits_open_readonly(&file, path, &status)
            guard status == 0, let f = file else { throw SourceError(path, "not a readable FITS file: \(message(status))") }
            // Every error from here on closes the handle: the caller never sees it.
            do {
                var exttype: Int32 = 0
                _ = ffmahd(f, Int32(hdu), &exttype, &status)
                if status == 0 { _ = ffghdt(f, &exttype, &status) }
                guard status == 0 else { throw SourceError(path, "HDU \(hdu) is damaged: \(message(status))") }
                isImage = exttype == IMAGE_HDU
                if isImage {
                    _ = ffgiprll(f, 9, &bitpix, &naxis, &naxes, &status)
                    if status == 0, FITSCompression.isCompressed(f) {
                        // A tile-compressed image: its own header, not the BINTABLE's cards.
                        cards = try FITSCompression.imageHeaderCards(f, path: path, hdu: hdu)
                        compression = FITSCompression.info(f, rank: Int(naxis))
                    } else {
                        cards = readCards(f)
                    }
                }
                if status != 0 { throw SourceError(path, "HDU \(hdu) has a damaged header: \(message(status))") }
            } catch {
                var s: Int32 = 0
                _ = tessera_fits_close(f, &s)
                file = nil
                throw error
            }
        }
        guard let file else { return nil }
        let rank = Int(naxis)
        guard isImage, (2...5).contains(rank) else {
            var s: Int32 = 0
            _ = FITSImage.libraryLock.withLock { _ in tessera_fits_close(file, &s) }
            if isImage, rank > 5 { throw SourceError(path, "HDU \(hdu) has \(rank) axes; NGFF images have 2 to 5") }
            return nil
        }
        let header = Dictionary(cards, uniquingKeysWith: { first, _ in first })
        let zero = header["BZERO"]?.doubleValue ?? 0, scale = header["BSCALE"]?.doubleValue ?? 1
        let (dataType, readType, blankToNaN) = outputType(bitpix: Int(bitpix), zero: zero, scale: scale, hasBlank: header["BLANK"] != nil)
        // FITS axes run fastest first (NAXIS1 = x); C order is the reverse.
        let names = Array(["x", "y", "z", "c", "t"].prefix(rank).reversed())
        let shape = (0..<rank).reversed().map { Int(naxes[$0]) }
        var spacing = [Double](repeating: 1, count: rank)
        var axes = names.map { ImageAxis(name: $0) }
        var physical = false
        for (k, name) in names.enumerated() where ["z", "y", "x"].contains(name) {
            let n = rank - k // FITS axis number
            guard let unit = header["CUNIT\(n)"]?.stringValue.flatMap(lengthUnit) else { continue }
            axes[k].unit = unit
            if let delta = header["CDELT\(n)"]?.doubleValue, delta != 0 {
                spacing[k] = abs(delta)
                physical = true
            }
        }
        let extname = header["EXTNAME"]?.stringValue
        var metadata: [String: JSONValue] = ["hdu": JSONValue(hdu - 1), "header": .array(cards.map { .array([.string($0.0), $0.1]) })]
        if let extname { metadata["extname"] = .string(extname) }
        if let compression { metadata["compression"] = .object(compression.cards) }
        // A compressed image is read whole tiles at a time: cfitsio decompresses every tile a
        // read touches, so reads aligned to tiles decompress each tile once.
        let readBlock = compression.map { zip($0.tile, shape).map { min($0, $1) } }
            ?? shape.enumerated().map { $0.offset == rank - 1 ? $0.element : 1 }
        let description = ImageDescription(
            name: extname.map { "\(stem)_\($0)" } ?? (hdu == 1 ? stem : "\(stem)_\(hdu - 1)"), axes: axes, shape: shape,
            dataType: dataType, spacing: spacing, metadata: .object(metadata),
            readBlock: readBlock, hasPhysicalSizes: physical)
        return FITSImage(path: path, hdu: hdu, file: file, readType: readType, blankToNaN: blankToNaN, description: description)
    }

    /// The stored type after FITS scaling: the unsigned/signed integer conventions
    /// (BZERO = 2^(n−1) or −128) stay integers, any other scaling becomes float.
    static func outputType(bitpix: Int, zero: Double, scale: Double, hasBlank: Bool) -> (DataType, Int32, Bool) {
        let unscaled = zero == 0 && scale == 1
        switch bitpix {
        case 8:
            if unscaled { return (.uint8, TBYTE, false) }
            if zero == -128, scale == 1 { return (.int8, TSBYTE, false) }
            return (.float32, TFLOAT, hasBlank)
        case 16:
            if unscaled { return (.int16, TSHORT, false) }
            if zero == 32768, scale == 1 { return (.uint16, TUSHORT, false) }
            return (.float32, TFLOAT, hasBlank)
        case 32:
            if unscaled { return (.int32, TINT, false) }
            if zero == 2_147_483_648, scale == 1 { return (.uint32, TUINT, false) }
            return (.float64, TDOUBLE, hasBlank)
        case 64:
            if unscaled { return (.int64, TLONGLONG, false) }
            if zero == 9_223_372_036_854_775_808, scale == 1 { return (.uint64, TULONGLONG, false) }
            return (.float64, TDOUBLE, hasBlank)
        case -32: return (.float32, TFLOAT, false)
        default: return (.float64, TDOUBLE, false)
        }
    }

    /// Every header card as (keyword, value): numbers, booleans and strings typed.
    private static func readCards(_ f: UnsafeMutablePointer<fitsfile>) -> [(String, JSONValue)] {
        var status: Int32 = 0, count: Int32 = 0, more: Int32 = 0
        _ = ffghsp(f, &count, &more, &status)
        var cards = [(String, JSONValue)]()
        var name = [CChar](repeating: 0, count: 80), value = [CChar](repeating: 0, count: 80), comment = [CChar](repeating: 0, count: 80)
        for i in 0..<max(0, Int(count)) {
            status = 0
            guard ffgkyn(f, Int32(i + 1), &name, &value, &comment, &status) == 0 else { continue }
            let key = String(cString: name)
            guard !key.isEmpty else { continue }
            let text = String(cString: value).trimmingCharacters(in: .whitespaces)
            if key == "COMMENT" || key == "HISTORY" {
                cards.append((key, .string(String(cString: comment))))
            } else {
                cards.append((key, cardValue(text)))
            }
        }
        return cards
    }

    static func cardValue(_ text: String) -> JSONValue {
        if text.hasPrefix("'") {
            var s = String(text.dropFirst())
            if s.hasSuffix("'") { s.removeLast() }
            return .string(s.replacingOccurrences(of: "''", with: "'").trimmingCharacters(in: .whitespaces))
        }
        if text == "T" { return .bool(true) }
        if text == "F" { return .bool(false) }
        if let i = Int64(text) { return .int(i) }
        if let u = UInt64(text) { return .uint(u) }
        if let d = Double(text.replacingOccurrences(of: "D", with: "E")), d.isFinite { return .double(d) }
        return text.isEmpty ? .null : .string(text)
    }

    /// FITS CUNIT values that are lengths, as NGFF unit names (angles are not NGFF units).
    static func lengthUnit(_ unit: String) -> String? {
        let table = ["m": "meter", "km": "kilometer", "cm": "centimeter", "mm": "millimeter", "um": "micrometer",
                     "nm": "nanometer", "Angstrom": "angstrom", "angstrom": "angstrom", "pc": "parsec"
                    ]
        return table[unit.trimmingCharacters(in: .whitespaces)]
    }

    static func message(_ status: Int32) -> String {
        var text = [CChar](repeating: 0, count: 32)
        ffgerr(status, &text)
        return String(cString: text) + " (status \(status))"
    }
}
