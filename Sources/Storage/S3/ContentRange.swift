import Foundation

/// The `Content-Range: bytes FIRST-LAST/TOTAL` of a 206 answer (TOTAL may be `*`).
struct ContentRange: Equatable {
    var first: Int
    var last: Int
    var total: Int?

    init(first: Int, last: Int, total: Int?) {
        self.first = first
        self.last = last
        self.total = total
    }

    init?(header: String) {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("bytes ") else { return nil }
        let spec = text.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        let bounds = spec[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int(bounds[0]), let last = Int(bounds[1]), first >= 0, first <= last else { return nil }
        if spec[1] == "*" {
            total = nil
        } else {
            guard let t = Int(spec[1]), t > last else { return nil }
            total = t
        }
        self.first = first
        self.last = last
    }

    /// Why a 206 answer of `bodyCount` bytes is not the range `asked`, or nil if it is.
    /// A server may clip a range at the object's end, so a shorter answer is right only
    /// when it ends at the last byte; anything else — another start, a missing or
    /// unreadable header, a body of another length — would hand the caller other bytes
    /// than those it asked for, which would then decode as wrong data.
    static func mismatch(header: String?, asked: ByteRange, bodyCount: Int) -> String? {
        guard let header else { return "a 206 answer without Content-Range" }
        guard let got = ContentRange(header: header) else { return "a 206 answer with an unreadable Content-Range '\(header)'" }
        let (length, overflow) = got.last.subtractingReportingOverflow(got.first)
        guard !overflow, length == bodyCount - 1 else {
            return "Content-Range '\(header)' does not match the \(bodyCount) bytes sent"
        }
        let endsAtEnd = got.total.map { got.last == $0 - 1 }
        let right: Bool
        switch asked {
        case let .slice(offset, count):
            let (wantedLast, over) = offset.addingReportingOverflow(count - 1)
            right = count > 0 && got.first == offset && (got.last == wantedLast || (!over && got.last < wantedLast && endsAtEnd == true))
        case let .from(offset):
            right = got.first == offset && endsAtEnd != false
        case let .suffix(count):
            right = count > 0 && endsAtEnd != false && (got.total.map { got.first == max(0, $0 - count) } ?? (bodyCount == count))
        }
        return right ? nil : "asked for \(asked.httpRange) but the answer's Content-Range is '\(header)'"
    }
}
