import CFITSIO
import ZarrCore

/// Every header card of every HDU (images, tables, anything), for the catalogue's harvest:
/// read as the raw 80-character cards and parsed the way astropy reads them, so a header
/// harvested here is the header astropy shows (Docs/catalog.md, "Harvest"):
/// - long strings continued on `CONTINUE` cards (`&` at the end of each piece) are one value;
/// - `HIERARCH ESO DET CHIP = …` is the key `ESO DET CHIP`;
/// - COMMENT, HISTORY and other cards without a value indicator keep their text;
/// - blank cards (an empty keyword) are skipped; duplicated keywords are all kept, in order;
/// - strings lose their trailing blanks (`''` is a quote), `T`/`F` are booleans, integers
///   and floats (`E` or `D` exponent) are numbers, an empty value is null, anything else
///   (complex numbers) stays text.
enum FITSHeaders {
    /// Most HDUs whose headers are harvested; the rest are left out and `truncated` said.
    static let maxHDUs = 1000

    /// The `MetadataFlattener` input for an open file (any HDU current; the caller holds
    /// `FITSImage.libraryLock`). Scopes `hdu0`, `hdu1`, … as astropy numbers HDUs.
    static func read(_ f: UnsafeMutablePointer<fitsfile>, hduCount: Int) -> JSONValue {
        var scopes = [JSONValue]()
        for hdu in 1...max(1, min(hduCount, maxHDUs)) {
            var status: Int32 = 0, type: Int32 = 0
            guard ffmahd(f, Int32(hdu), &type, &status) == 0 else { break }
            var count: Int32 = 0, more: Int32 = 0
            _ = ffghsp(f, &count, &more, &status)
            var cards = [String]()
            var record = [CChar](repeating: 0, count: 96)
            for i in 0..<max(0, Int(count)) {
                status = 0
                guard ffgrec(f, Int32(i + 1), &record, &status) == 0 else { continue }
                cards.append(String(decoding: record.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            let entries = parse(cards).map { JSONValue.array([.string($0.key), $0.value]) }
            scopes.append(.object(["scope": .string("hdu\(hdu - 1)"), "entries": .array(entries)]))
        }
        return .object(["format": "fits", "scopes": .array(scopes), "truncated": .bool(hduCount > maxHDUs)])
    }

    /// The cards of one header as (key, value), in order.
    static func parse(_ cards: [String]) -> [(key: String, value: JSONValue)] {
        var result = [(key: String, value: JSONValue)]()
        // The entry whose string ended in `&`, waiting for CONTINUE cards.
        var continuing: Int?
        for card in cards {
            // cfitsio hands cards back without their trailing blanks; the columns count.
            var chars = Array(card.utf8.prefix(80))
            if chars.count < 80 { chars += [UInt8](repeating: UInt8(ascii: " "), count: 80 - chars.count) }
            let key8 = String(decoding: chars.prefix(8), as: UTF8.self).trimmingTrailingSpaces()
            if key8 == "END" { break }
            if key8 == "CONTINUE", let index = continuing, case let .string(previous) = result[index].value {
                let joined = String(previous.dropLast()) + (stringValue(Array(chars.dropFirst(8))) ?? "")
                result[index].value = .string(joined)
                if !joined.hasSuffix("&") { continuing = nil }
                continue
            }
            continuing = nil
            if key8.isEmpty { continue }
            if key8 == "HIERARCH", let equals = chars.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: chars[8..<equals], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                if name.isEmpty { continue }
                result.append((name, value(Array(chars[(equals + 1)...]))))
                continue
            }
            let hasValue = chars.count >= 10 && chars[8] == UInt8(ascii: "=") && chars[9] == UInt8(ascii: " ")
            if key8 == "COMMENT" || key8 == "HISTORY" || !hasValue {
                result.append((key8, .string(String(decoding: chars.dropFirst(8), as: UTF8.self).trimmingTrailingSpaces())))
                continue
            }
            let field = Array(chars.dropFirst(10))
            if let text = stringValue(field) {
                // Kept with its `&` until a CONTINUE card comes (without one, it is the value).
                if text.hasSuffix("&") { continuing = result.count }
                result.append((key8, .string(text)))
            } else {
                result.append((key8, value(field)))
            }
        }
        // A string still ending in `&` with no CONTINUE after it keeps the `&`, as astropy does.
        return result
    }

    /// The value field (after `= `): a string, a boolean, a number, null, or text.
    static func value(_ field: [UInt8]) -> JSONValue {
        if let s = stringValue(field) { return .string(s) }
        let token = String(decoding: field.prefix { $0 != UInt8(ascii: "/") }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if token.isEmpty { return .null }
        if token == "T" { return .bool(true) }
        if token == "F" { return .bool(false) }
        if let i = Int64(token) { return .int(i) }
        if let u = UInt64(token) { return .uint(u) }
        let digitsAndExponent = token.allSatisfy { "0123456789+-.EeDd".contains($0) }
        if digitsAndExponent, let d = Double(token.replacingOccurrences(of: "D", with: "E").replacingOccurrences(of: "d", with: "e")),
           d.isFinite {
            return .double(d)
        }
        return .string(token)
    }

    /// A quoted string value (`'it''s  '` → `it's`), or nil when the field holds no string.
    static func stringValue(_ field: [UInt8]) -> String? {
        guard let open = field.firstIndex(where: { $0 != UInt8(ascii: " ") }), field[open] == UInt8(ascii: "'") else { return nil }
        var bytes = [UInt8]()
        var i = open + 1
        while i < field.count {
            if field[i] == UInt8(ascii: "'") {
                if i + 1 < field.count, field[i + 1] == UInt8(ascii: "'") {
                    bytes.append(UInt8(ascii: "'"))
                    i += 2
                    continue
                }
                break
            }
            bytes.append(field[i])
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self).trimmingTrailingSpaces()
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
