/// Byte-level helpers for HTTP text, shared by the parsers on both answer paths.

/// `c` with A–Z mapped to a–z.
func asciiLowercased(_ c: UInt8) -> UInt8 {
    c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
}

extension BidirectionalCollection where Element == UInt8, SubSequence == Self {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingOWS() -> Self {
        var s = self
        while let c = s.first, c == 0x20 || c == 0x09 { s.removeFirst() }
        while let c = s.last, c == 0x20 || c == 0x09 { s.removeLast() }
        return s
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (compared as bytes, not Characters).
    var trimmingSpaces: Substring { Substring(utf8.trimmingOWS()) }
}
