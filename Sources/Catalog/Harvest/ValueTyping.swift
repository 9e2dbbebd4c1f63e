import Foundation

/// How a harvested value is typed (Docs/catalog.md, "Harvest"): numbers the source typed as
/// numbers stay numbers; strings matching the strict date grammar become dates; sexagesimal
/// right ascensions and declinations become degrees; everything else is a string. The same
/// rules are written in Python in `Tests/Conformance/catalog/flatten_reference.py`.
public enum ValueTyping {
    // MARK: dates

    /// Seconds since 1970 (UTC) of a string in one of the accepted date forms, or `nil`:
    /// - ISO 8601 `YYYY-MM-DD[Thh:mm[:ss[.f…]]][Z|±hh:mm]` (no zone = UTC, as FITS defines);
    /// - FITS's old `DD/MM/YY` (years 1900–1999, as the FITS standard defines it);
    /// - TIFF's `YYYY:MM:DD hh:mm:ss`.
    /// Strict: every field has its exact width and range; nothing else is read as a date
    /// (a number is never a date at harvest).
    public static func date(_ text: String) -> Double? {
        let b = Array(text.utf8)
        if b.count == 19, b[4] == UInt8(ascii: ":"), b[7] == UInt8(ascii: ":"), b[10] == UInt8(ascii: " "),
           b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":") {
            guard let y = digits(b, 0, 4), let mo = digits(b, 5, 2), let d = digits(b, 8, 2),
                  let h = digits(b, 11, 2), let mi = digits(b, 14, 2), let s = digits(b, 17, 2) else { return nil }
            return civil(y, mo, d, h, mi, Double(s))
        }
        if b.count == 8, b[2] == UInt8(ascii: "/"), b[5] == UInt8(ascii: "/") {
            guard let d = digits(b, 0, 2), let mo = digits(b, 3, 2), let y = digits(b, 6, 2) else { return nil }
            return civil(1900 + y, mo, d, 0, 0, 0)
        }
        return isoDate(b)
    }

    private static func isoDate(_ b: [UInt8]) -> Double? {
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = digits(b, 0, 4), let mo = digits(b, 5, 2), let d = digits(b, 8, 2) else { return nil }
        if b.count == 10 { return civil(y, mo, d, 0, 0, 0) }
        guard b[10] == UInt8(ascii: "T"), b.count >= 16, b[13] == UInt8(ascii: ":"),
              let h = digits(b, 11, 2), let mi = digits(b, 14, 2) else { return nil }
        var i = 16
        var seconds = 0.0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            guard let s = digits(b, i + 1, 2) else { return nil }
            seconds = Double(s)
            i += 3
            if i < b.count, b[i] == UInt8(ascii: ".") {
                var j = i + 1
                var fraction = 0.0, scale = 0.1
                while j < b.count, let digit = digitValue(b[j]) {
                    fraction += Double(digit) * scale
                    scale /= 10
                    j += 1
                }
                guard j > i + 1 else { return nil }
                seconds += fraction
                i = j
            }
        }
        var offset = 0
        if i < b.count {
            if b[i] == UInt8(ascii: "Z"), i + 1 == b.count {
                i += 1
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                      let oh = digits(b, i + 1, 2), let om = digits(b, i + 4, 2), oh <= 23, om <= 59 {
                offset = (oh * 60 + om) * 60 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
                i += 6
            } else {
                return nil
            }
        }
        guard i == b.count, let local = civil(y, mo, d, h, mi, seconds) else { return nil }
        return local - Double(offset)
    }

    /// Unix seconds of a proleptic Gregorian date and time (UTC), or `nil` when a field is out
    /// of range (month 1–12, the month's days, hour 0–23, minute 0–59, second < 60).
    static func civil(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Double) -> Double? {
        guard (1...12).contains(m), d >= 1, h <= 23, mi <= 59, s < 60 else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= days[m - 1] else { return nil }
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let dayNumber = era * 146_097 + doe - 719_468
        return Double(dayNumber) * 86400 + Double(h * 3600 + mi * 60) + s
    }

    private static func digitValue(_ c: UInt8) -> Int? {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") ? Int(c - UInt8(ascii: "0")) : nil
    }

    private static func digits(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start >= 0, start + count <= b.count else { return nil }
        var value = 0
        for c in b[start..<(start + count)] {
            guard let d = digitValue(c) else { return nil }
            value = value * 10 + d
        }
        return value
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
        guard i < b.count, let first = digitValue(b[i]) else { return nil }
        i += 1
        if first == 0 {
            guard i == b.count || digitValue(b[i]) == nil else { return nil }
        } else {
            while i < b.count, digitValue(b[i]) != nil { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, digitValue(b[i]) != nil { i += 1 }
            guard i > start else { return nil }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let start = i
            while i < b.count, digitValue(b[i]) != nil { i += 1 }
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
