/// A `Range` request header, parsed by the gateway itself: shard indexes are read with
/// suffix ranges, and a server that gets them wrong hands readers garbage (CONFORMANCE.md).
public enum RangeRequest: Equatable, Sendable {
    /// No header, or a unit other than bytes (ignored, as RFC 9110 asks): the whole object.
    case none
    /// `bytes=first-last`; `last` nil for `bytes=first-`.
    case closed(first: UInt64, last: UInt64?)
    /// `bytes=-length`.
    case suffix(UInt64)
    /// Several ranges, or a `bytes=` value that does not parse (`5-1`, garbage):
    /// answered 416, never with a 200 a reader would mistake for its range.
    case unsatisfiable

    public init(header: Substring?) {
        guard let header = header?.trimmingSpaces else { self = .none; return }
        let bytes = header.utf8
        // Byte-wise: this runs for every shard read, and String searches on Substring
        // go through Foundation here.
        guard bytes.count >= 6, zip(bytes.prefix(6), "bytes=".utf8).allSatisfy({ asciiLowercased($0) == $1 })
        else { self = .none; return }
        let spec = header.dropFirst(6).trimmingSpaces
        guard !spec.utf8.contains(UInt8(ascii: ",")), let dash = spec.utf8.firstIndex(of: UInt8(ascii: "-"))
        else { self = .unsatisfiable; return }
        let first = spec[..<dash].trimmingSpaces, last = spec[spec.index(after: dash)...].trimmingSpaces
        switch (Self.number(first), Self.number(last)) {
        case (nil, let n?) where first.isEmpty: self = .suffix(n)
        case (let a?, nil) where last.isEmpty: self = .closed(first: a, last: nil)
        case let (a?, b?) where a <= b: self = .closed(first: a, last: b)
        default: self = .unsatisfiable
        }
    }

    /// Digits only; values too large for 64 bits saturate (a range ending past any object).
    private static func number(_ s: Substring) -> UInt64? {
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var value: UInt64 = 0
        for d in s.utf8 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (v, o2) = m.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { return UInt64.max }
            value = v
        }
        return value
    }

    /// The bytes to send for an object of `size` bytes: nil means the whole object
    /// (no range asked), `.failure` means 416.
    public func resolve(size: Int) -> Result<Range<Int>, Unsatisfiable>? {
        let size64 = UInt64(size)
        switch self {
        case .none: return nil
        case .unsatisfiable: return .failure(Unsatisfiable())
        case let .closed(first, last):
            guard first < size64 else { return .failure(Unsatisfiable()) }
            let end = min(last ?? UInt64.max, size64 - 1)
            return .success(Int(first)..<Int(end) + 1)
        case let .suffix(n):
            guard n > 0, size > 0 else { return .failure(Unsatisfiable()) }
            return .success(Int(size64 - min(n, size64))..<size)
        }
    }

    public struct Unsatisfiable: Error, Equatable {}
}

/// `c` with A–Z mapped to a–z.
func asciiLowercased(_ c: UInt8) -> UInt8 {
    c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
