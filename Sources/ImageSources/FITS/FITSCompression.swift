import CFITSIO
import Foundation
import ZarrCore

/// Tile-compressed image HDUs (`.fz`, `fpack`): cfitsio reads them as ordinary images, but
/// their raw header is the BINTABLE that stores the tiles. These read the image header
/// cfitsio reconstructs from it, and the compression cards (kept apart, for the metadata
/// and `tessera info`). Call with `FITSImage.libraryLock` held, on the HDU made current.
enum FITSCompression {
    static func isCompressed(_ f: UnsafeMutablePointer<fitsfile>) -> Bool {
        var status: Int32 = 0
        return fits_is_compressed_image(f, &status) != 0 && status == 0
    }

    /// The image header (`XTENSION='IMAGE'`, BITPIX, NAXISn, the user's cards) as cfitsio
    /// converts it back from the compressed HDU, as (keyword, value) pairs.
    static func imageHeaderCards(_ f: UnsafeMutablePointer<fitsfile>, path: String, hdu: Int) throws -> [(String, JSONValue)] {
        var status: Int32 = 0, count: Int32 = 0
        var header: UnsafeMutablePointer<CChar>?
        _ = ffcnvthdr2str(f, 0, nil, 0, &header, &count, &status)
        defer { if let header { var s: Int32 = 0; _ = fffree(header, &s) } }
        guard status == 0, let header, count >= 0 else {
            throw SourceError(path, "HDU \(hdu): cannot read the compressed image's header: \(FITSOpener.message(status))")
        }
        let length = strnlen(header, 80 * Int(count))
        let text = Array(UnsafeBufferPointer(start: UnsafeRawPointer(header).assumingMemoryBound(to: UInt8.self), count: length))
        var cards = [(String, JSONValue)]()
        for start in stride(from: 0, to: text.count, by: 80) {
            let card = String(decoding: text[start..<min(start + 80, text.count)], as: UTF8.self)
            let key = String(card.prefix(8)).trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key != "END" else { continue }
            if key == "COMMENT" || key == "HISTORY" {
                cards.append((key, .string(String(card.dropFirst(8)).trimmingCharacters(in: .whitespaces))))
                continue
            }
            var value = [CChar](repeating: 0, count: 72), comment = [CChar](repeating: 0, count: 74)
            var s: Int32 = 0
            var cardBytes = Array(card.utf8CString)
            guard card.count > 10, ffpsvc(&cardBytes, &value, &comment, &s) == 0 else { continue }
            cards.append((key, FITSOpener.cardValue(String(decoding: value.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces))))
        }
        return cards
    }

    /// `ZCMPTYPE`, `ZBITPIX`, `ZTILEn` (n = 1…rank), `ZQUANTIZ` and `ZDITHER0` when present
    /// (no `ZQUANTIZ` on a float image means NO_DITHER), the coder's parameters
    /// (`ZNAMEi` = `ZVALi`: BLOCKSIZE, NOISEBIT, SCALE, …), and the tile shape in C order.
    static func info(_ f: UnsafeMutablePointer<fitsfile>, rank: Int) -> (cards: [String: JSONValue], tile: [Int]) {
        var cards = [String: JSONValue]()
        func string(_ key: String) -> String? {
            var status: Int32 = 0
            var value = [CChar](repeating: 0, count: 72)
            guard ffgky(f, TSTRING, key, &value, nil, &status) == 0 else { return nil }
            return String(decoding: value.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        func long(_ key: String) -> Int? {
            var status: Int32 = 0
            var value = 0
            guard ffgky(f, TLONG, key, &value, nil, &status) == 0 else { return nil }
            return value
        }
        for key in ["ZCMPTYPE", "ZQUANTIZ"] { if let v = string(key) { cards[key] = .string(v) } }
        for key in ["ZDITHER0", "ZBITPIX"] { if let v = long(key) { cards[key] = .int(Int64(v)) } }
        var parameters = [String: JSONValue]()
        for i in 1...20 {
            guard let name = string("ZNAME\(i)") else { break }
            var status: Int32 = 0
            var value = [CChar](repeating: 0, count: 72)
            // The raw value text (a number or a quoted string), typed as header cards are.
            guard ffgkey(f, "ZVAL\(i)", &value, nil, &status) == 0 else { continue }
            parameters[name] = FITSOpener.cardValue(String(decoding: value.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        if !parameters.isEmpty { cards["parameters"] = .object(parameters) }
        var tile = [Int](repeating: 1, count: rank)
        for n in 1...max(1, rank) {
            guard let length = long("ZTILE\(n)") else { continue }
            cards["ZTILE\(n)"] = .int(Int64(length))
            if n <= rank, length > 0 { tile[rank - n] = length }
        }
        return (cards, tile)
    }

    /// "RICE_1, tiles 100x16, SUBTRACTIVE_DITHER_1" for `tessera info`.
    static func summary(_ cards: JSONValue) -> String {
        var parts = [cards["ZCMPTYPE"]?.stringValue ?? "compressed"]
        let tiles = (1...9).compactMap { cards["ZTILE\($0)"]?.intValue }
        if !tiles.isEmpty { parts.append("tiles " + tiles.map(String.init).joined(separator: "x")) }
        if let q = cards["ZQUANTIZ"]?.stringValue { parts.append(q) }
        return parts.joined(separator: ", ")
    }
}
