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

    /// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DD(T| )hh:mm[:ss[.f…]][Z|±hh:mm]` (no zone = UTC),
    /// as unix seconds: the harvest's grammar (`ISODate`) with a space for the `T`, at most nine
    /// fraction digits, years 0001…9999. `nil` otherwise.
    static func date(_ text: String) -> Double? {
        ISODate.seconds(Array(text.utf8), .search)
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}
