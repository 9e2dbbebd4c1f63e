import Storage

/// A `Range` request header, parsed by the gateway itself straight into a `ByteRange`:
/// shard indexes are read with suffix ranges, and a server that gets them wrong hands
/// readers garbage (Docs/conformance.md, "Why the gateway parses ranges itself").
public enum RangeRequest: Equatable, Sendable {
    /// No header, or a unit other than bytes (ignored, as RFC 9110 asks): the whole object.
    case none
    /// One range of bytes: `bytes=first-last`, `bytes=first-` or `bytes=-length`.
    case bytes(ByteRange)
    /// Several ranges, or a `bytes=` value that does not parse (`5-1`, garbage):
    /// answered 416, never with a 200 a reader would mistake for its range.
    case unsatisfiable

    /// `bytes=first-last` (`last` nil for `bytes=first-`).
    public static func closed(first: UInt64, last: UInt64?) -> RangeRequest { .bytes(ByteRange(first: first, last: last)) }

    /// `bytes=-length`.
    public static func suffix(_ length: UInt64) -> RangeRequest { .bytes(.suffix(Int(clamping: length))) }

    public init(header: Substring?) {
        guard var header else { self = .none; return }
        // Byte-wise over contiguous UTF-8: this runs for every shard read.
        self = header.withUTF8 { Self.parse($0) }
    }

    private static func parse(_ all: UnsafeBufferPointer<UInt8>) -> RangeRequest {
        let bytes = all[...].trimmingOWS()
        guard bytes.count >= 5, zip(bytes.prefix(5), "bytes".utf8).allSatisfy({ asciiLowercased($0) == $1 }) else { return .none }
        let afterUnit = bytes.dropFirst(5)
        guard afterUnit.first == UInt8(ascii: "=") else {
            // `bytesx=…` is another unit (ignored); `bytes =0-4` or `bytes 0-4` is a bytes
            // range written wrongly, and a range is never answered with the whole body.
            if let next = afterUnit.first, isUnitByte(next) { return .none }
            return .unsatisfiable
        }
        let spec = afterUnit.dropFirst().trimmingOWS()
        guard !spec.contains(UInt8(ascii: ",")), let dash = spec.firstIndex(of: UInt8(ascii: "-")) else { return .unsatisfiable }
        let first = spec[..<dash].trimmingOWS(), last = spec[(dash + 1)...].trimmingOWS()
        switch (number(first), number(last)) {
        case (nil, let n?) where first.isEmpty: return .suffix(n)
        case (let a?, nil) where last.isEmpty: return .closed(first: a, last: nil)
        case let (a?, b?) where a <= b: return .closed(first: a, last: b)
        default: return .unsatisfiable
        }
    }

    /// A byte that continues a range unit's name (RFC 9110 `tchar`, near enough: letters,
    /// digits and the punctuation units use).
    private static func isUnitByte(_ c: UInt8) -> Bool {
        let lower = asciiLowercased(c)
        return (lower >= 97 && lower <= 122) || (c >= 48 && c <= 57) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
            || c == UInt8(ascii: ".")
    }

    /// Digits only; values too large for 64 bits saturate (a range ending past any object).
    private static func number(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        guard !s.isEmpty, s.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var value: UInt64 = 0
        for d in s {
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
        switch self {
        case .none: return nil
        case .unsatisfiable: return .failure(Unsatisfiable())
        case let .bytes(range): return range.satisfiable(size: size).map { .success($0) } ?? .failure(Unsatisfiable())
        }
    }

    public struct Unsatisfiable: Error, Equatable {}
}
