/// Percent-decoding of request text, once, as bytes: the one decoder of the gateway's path
/// segments (`RequestPath`) and query strings (`QueryString`, where `+` also means a space)
/// and of render queries (`RenderQuery`). A `%` not followed by two hex digits makes the
/// whole text undecodable (`nil`): it is refused, never passed on as sent.
public enum PercentDecoding {
    public static func bytes(_ text: Substring, plusIsSpace: Bool) -> [UInt8]? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.utf8.count)
        var it = text.utf8.makeIterator()
        while let b = it.next() {
            switch b {
            case UInt8(ascii: "%"):
                guard let hi = it.next().flatMap(hexValue), let lo = it.next().flatMap(hexValue) else { return nil }
                bytes.append(hi << 4 | lo)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(b)
            }
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension PercentDecoding {
    /// A query-string part (`+` is a space) as valid UTF-8 text, or nil.
    public static func queryText(_ text: Substring) -> String? {
        bytes(text, plusIsSpace: true).flatMap { String(validating: $0, as: UTF8.self) }
    }
}
