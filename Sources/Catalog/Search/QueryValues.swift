/// The strict grammars of search parameter values: finite decimal numbers and ISO 8601 dates.
/// Stricter than `Double(String)` (which takes `nan`, `inf`, hex floats and overflows to
/// infinity) so every accepted value means one thing on both stores.
enum QueryValues {
    /// `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`, finite. `nil` otherwise.
    static func number(_ text: String) -> Double? {
        let b = Array(text.utf8)
        guard !b.isEmpty, b.count <= 64 else { return nil }
        var i = 0
        func digits() -> Int { let start = i; while i < b.count, isDigit(b[i]) { i += 1 }; return i - start }
        if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        var mantissa = digits()
        if i < b.count, b[i] == UInt8(ascii: ".") { i += 1; mantissa += digits() }
        guard mantissa > 0 else { return nil }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == b.count, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDThh:mm[:ss[.f…]][Z|±hh:mm]` (no zone = UTC),
    /// as unix seconds. Years 0001…9999. `nil` otherwise.
    static func date(_ text: String) -> Double? {
        let b = Array(text.utf8)
        guard b.count >= 10, b.count <= 40 else { return nil }
        var i = 0
        func fixed(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) { guard isDigit(b[k]) else { return nil }; v = v * 10 + Int(b[k] - 48) }
            i += n
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue else { return false }
            i += 1; return true
        }
        guard let year = fixed(4), year >= 1, expect("-"), let month = fixed(2), (1...12).contains(month),
              expect("-"), let day = fixed(2), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86400
        if i == b.count { return seconds }
        guard expect("T") || expect(" "), let hour = fixed(2), hour < 24, expect(":"),
              let minute = fixed(2), minute < 60 else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        if expect(":") {
            guard let second = fixed(2), second < 60 else { return nil }
            seconds += Double(second)
            if expect(".") {
                var scale = 0.1, fraction = 0.0, count = 0
                while i < b.count, isDigit(b[i]), count < 9 { fraction += Double(b[i] - 48) * scale; scale /= 10; i += 1; count += 1 }
                guard count > 0, i == b.count || !isDigit(b[i]) else { return nil }
                seconds += fraction
            }
        }
        if i == b.count || expect("Z") {
            return i == b.count ? seconds : nil
        }
        guard i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
        let sign: Double = b[i] == UInt8(ascii: "+") ? 1 : -1
        i += 1
        guard let zh = fixed(2), zh < 24, expect(":"), let zm = fixed(2), zm < 60, i == b.count else { return nil }
        return seconds - sign * Double(zh * 3600 + zm * 60)
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
