/// A byte range of a stored object, in the three forms HTTP and S3 express
/// (`bytes=a-b`, `bytes=a-`, `bytes=-n`). The gateway parses a client's `Range:` header
/// straight into one, and S3Store writes its `Range:` header from one.
public enum ByteRange: Sendable, Equatable, Hashable {
    /// `length` bytes starting at `offset` (bounded).
    case slice(offset: Int, length: Int)
    /// From `offset` to the end.
    case from(Int)
    /// The last `n` bytes.
    case suffix(Int)

    /// `bytes=first-last` (`last` nil for `bytes=first-`), as parsed from a header.
    /// Values past `Int.max` saturate: a range ending past any object, or starting past it.
    public init(first: UInt64, last: UInt64?) {
        let start = Int(clamping: first)
        guard let last else { self = .from(start); return }
        let end = Int(clamping: last)
        let (count, overflow) = (end - start).addingReportingOverflow(1)
        self = .slice(offset: start, length: overflow ? Int.max : max(0, count))
    }

    /// The concrete range within an object of `size` bytes (clipped to it).
    public func resolve(size: Int) -> Range<Int> {
        switch self {
        case let .slice(o, l):
            let lo = min(max(0, o), size)
            let (hi, overflow) = lo.addingReportingOverflow(max(0, l))
            return lo..<(overflow ? size : min(size, hi))
        case let .from(o): return min(max(0, o), size)..<size
        case let .suffix(n): return max(0, size - max(0, n))..<size
        }
    }

    /// The bytes an HTTP answer sends for this range of an object of `size` bytes, or nil
    /// when the range is unsatisfiable (RFC 9110: it starts at or past the end, or is an
    /// empty suffix or slice) and the answer is 416.
    public func satisfiable(size: Int) -> Range<Int>? {
        switch self {
        case let .slice(o, l): guard o >= 0, o < size, l > 0 else { return nil }
        case let .from(o): guard o >= 0, o < size else { return nil }
        case let .suffix(n): guard n > 0, size > 0 else { return nil }
        }
        return resolve(size: size)
    }

    /// The `Range` header value (`bytes=…`) for a non-empty range.
    public var httpRange: String {
        switch self {
        case let .slice(o, l):
            let (last, overflow) = o.addingReportingOverflow(l - 1)
            return overflow ? "bytes=\(o)-" : "bytes=\(o)-\(last)"
        case let .from(o): return "bytes=\(o)-"
        case let .suffix(n): return "bytes=-\(n)"
        }
    }
}
