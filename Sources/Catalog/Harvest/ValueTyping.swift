import Foundation

/// How a harvested value is typed (Docs/catalog.md, "Harvest"): numbers the source typed as
/// numbers stay numbers; strings matching the strict date grammar become dates; sexagesimal
/// right ascensions and declinations become degrees; everything else is a string. The same
/// rules are written in Python in `Tests/Conformance/catalog/flatten_reference.py`.
public enum ValueTyping {
    // MARK: dates

    /// Seconds since 1970 (UTC) of a string in one of the accepted date forms, or `nil`:
    /// - ISO 8601 `YYYY-MM-DD[Thh:mm[:ss[.f…]]][Z|±hh:mm]` (no zone = UTC, as FITS defines),
    ///   the grammar search parameters are read with too (`ISODate`);
    /// - FITS's old `DD/MM/YY` (years 1900–1999, as the FITS standard defines it);
    /// - TIFF's `YYYY:MM:DD hh:mm:ss`.
    /// Strict: every field has its exact width and range; nothing else is read as a date
    /// (a number is never a date at harvest).
    public static func date(_ text: String) -> Double? {
        let b = Array(text.utf8)
        if b.count == 19, b[4] == UInt8(ascii: ":"), b[7] == UInt8(ascii: ":"), b[10] == UInt8(ascii: " "),
           b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":") {
            guard let y = ISODate.digits(b, 0, 4), let mo = ISODate.digits(b, 5, 2), let d = ISODate.digits(b, 8, 2),
                  let h = ISODate.digits(b, 11, 2), let mi = ISODate.digits(b, 14, 2), let s = ISODate.digits(b, 17, 2) else { return nil }
            return ISODate.civil(y, mo, d, h, mi, Double(s))
        }
        if b.count == 8, b[2] == UInt8(ascii: "/"), b[5] == UInt8(ascii: "/") {
            guard let d = ISODate.digits(b, 0, 2), let mo = ISODate.digits(b, 3, 2), let y = ISODate.digits(b, 6, 2) else { return nil }
            return ISODate.civil(1900 + y, mo, d, 0, 0, 0)
        }
        return ISODate.seconds(b, .harvest)
    }

    // MARK: sexagesimal angles

    /// Whether a key names a right ascension (`RA…`, `OBJCTRA`) or a declination (`DEC…`,
    /// `OBJCTDEC`), whose sexagesimal string values are harvested as degrees.
    public enum Angle { case rightAscension, declination }

    public static func angleKind(_ key: String) -> Angle? {
        let k = key.uppercased()
        if k == "OBJCTRA" || k.hasPrefix("RA") { return .rightAscension }
        if k == "OBJCTDEC" || k.hasPrefix("DEC") { return .declination }
        return nil
    }

    /// Degrees of `hh:mm:ss[.s]` (right ascension, hours × 15) or `±dd:mm:ss[.s]`
    /// (declination); the fields are separated by `:` or by single spaces, the same separator
    /// twice. `nil` for anything else or a field out of range.
    public static func sexagesimal(_ text: String, as kind: Angle) -> Double? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if kind == .declination, let first = s.first, first == "+" || first == "-" {
            negative = first == "-"
            s = s.dropFirst()
        }
        let separator: Character = s.contains(":") ? ":" : " "
        let parts = s.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count >= 1, parts[0].count <= 3, parts[1].count >= 1, parts[1].count <= 2,
              parts[0].allSatisfy(\.isASCIIDigit), parts[1].allSatisfy(\.isASCIIDigit),
              let whole = Int(parts[0]), let minutes = Int(parts[1]), let seconds = decimal(parts[2]),
              minutes < 60, seconds < 60 else { return nil }
        let value = Double(whole) + Double(minutes) / 60 + seconds / 3600
        switch kind {
        case .rightAscension:
            guard value < 24 else { return nil }
            return value * 15
        case .declination:
            guard value <= 90 else { return nil }
            return negative ? -value : value
        }
    }

    /// `ss` or `ss.s…`, digits only (no sign, no exponent).
    private static func decimal(_ text: Substring) -> Double? {
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count), (1...2).contains(pieces[0].count), pieces[0].allSatisfy(\.isASCIIDigit),
              pieces.count == 1 || (!pieces[1].isEmpty && pieces[1].allSatisfy(\.isASCIIDigit)) else { return nil }
        return Double(text)
    }

    // MARK: numbers written as text

    /// A string that is exactly a JSON number (`-12`, `0.5`, `1e-3`; no `+`, no spaces, no
    /// leading zeros, finite). Only sources whose values are all text (slide properties) have
    /// such strings typed as numbers.
    public static func textualNumber(_ text: String) -> Double? {
        let b = Array(text.utf8)
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, let first = ISODate.digitValue(b[i]) else { return nil }
        i += 1
        if first == 0 {
            guard i == b.count || ISODate.digitValue(b[i]) == nil else { return nil }
        } else {
            while i < b.count, ISODate.digitValue(b[i]) != nil { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, ISODate.digitValue(b[i]) != nil { i += 1 }
            guard i > start else { return nil }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let start = i
            while i < b.count, ISODate.digitValue(b[i]) != nil { i += 1 }
            guard i > start else { return nil }
        }
        guard i == b.count, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// Largest integer a double holds exactly (2^53): bigger integers keep their text only.
    public static let exactIntegerLimit: UInt64 = 1 << 53
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
