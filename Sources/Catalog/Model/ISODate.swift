/// The catalogue's one ISO 8601 date grammar, for search parameters (`QueryValues.date`) and
/// harvested values (`ValueTyping.date`) alike, so a date means the same second on both sides
/// of a search: `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DD<sep>hh:mm[:ss[.f…]][Z|±hh:mm]`
/// (no zone = UTC, as FITS defines), as unix seconds. Strict: every field has its exact width
/// and range. The two readers differ only in what `Dialect` names.
enum ISODate {
    struct Dialect: Sendable {
        /// What may stand between the date and the time: `T`, and for a search also a space.
        var timeSeparators: [UInt8]
        /// The first year read (a search starts at 0001; a harvested 0000 is the year 1 BC).
        var firstYear: Int
        /// At most this many digits of a second's fraction (`nil`: any number).
        var maxFractionDigits: Int?

        static let search = Dialect(timeSeparators: [UInt8(ascii: "T"), UInt8(ascii: " ")], firstYear: 1, maxFractionDigits: 9)
        static let harvest = Dialect(timeSeparators: [UInt8(ascii: "T")], firstYear: 0, maxFractionDigits: nil)
    }

    /// Unix seconds of `b` in the dialect's grammar, or `nil`.
    static func seconds(_ b: [UInt8], _ dialect: Dialect) -> Double? {
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = digits(b, 0, 4), y >= dialect.firstYear, let mo = digits(b, 5, 2), let d = digits(b, 8, 2) else { return nil }
        if b.count == 10 { return civil(y, mo, d, 0, 0, 0) }
        guard dialect.timeSeparators.contains(b[10]), b.count >= 16, b[13] == UInt8(ascii: ":"),
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
                let count = j - (i + 1)
                guard count > 0, count <= dialect.maxFractionDigits ?? count else { return nil }
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

    static func digitValue(_ c: UInt8) -> Int? {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") ? Int(c - UInt8(ascii: "0")) : nil
    }

    /// The decimal value of `count` digits from `start`, or `nil` when one is not a digit.
    static func digits(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start >= 0, start + count <= b.count else { return nil }
        var value = 0
        for c in b[start..<(start + count)] {
            guard let d = digitValue(c) else { return nil }
            value = value * 10 + d
        }
        return value
    }
}
