/// A request head read by the fast path straight from the socket's bytes.
struct RawRequestHead {
    enum Method { case get, head, other }
    var method: Method
    /// Where the request target (still percent-encoded, query included) lies in the head's
    /// bytes: the access log's text, made only when a log is written.
    var target: Range<Int>
    /// What the target's path names, decoded once by `RequestPath` straight from the bytes.
    var route: RequestTarget
    /// Only the headers an object answer depends on; Host, User-Agent, Accept and the
    /// rest are checked for syntax and skipped.
    var fields: RequestFields
    /// The connection closes after this answer: the client asked (`Connection: close`),
    /// or spoke HTTP/1.0 (whose keep-alive extension the gateway does not offer).
    var close: Bool
    var isHTTP11: Bool
    var hostFields = 0
    /// A field no server may take (a transfer coding other than chunked).
    var refused = false
}

enum RawParse {
    /// No complete head yet.
    case needMore
    /// A well-formed head of `length` bytes, for a request without a body.
    case request(RawRequestHead, length: Int)
    /// Answered 400 and the connection closed: an HTTP/1.1 request without exactly one
    /// Host field, or any with several (RFC 9112 §3.2); a bare LF or CR among the head's
    /// line ends (§2.2), which the connection would otherwise wait on forever; `CONNECT`,
    /// which a gateway does not tunnel; a transfer coding other than chunked (§6.1).
    case badRequest
    /// Anything this parser does not take on: malformed syntax, a request body, an
    /// upgrade, `Expect`, an oversized head. The connection is handed to NIO's parser
    /// for good, so every such case gets exactly the answer it got before the fast path.
    case unsupported
}

/// A deliberately narrow HTTP/1.1 request-head parser for the fast path.
///
/// It accepts only the strict grammar of RFC 9112 (single spaces in the request line, an
/// origin-form target of visible ASCII, `HTTP/1.0` or `HTTP/1.1`, CRLF line ends,
/// `token ":" OWS value OWS` fields, no obsolete line folding) and only requests
/// without a body. Everything else is `.unsupported`: this parser never has to be as
/// complete as llhttp, only never more lenient than it.
enum RawRequestParser {
    /// Heads longer than this are left to NIO's parser and its configured limits.
    static let maxHeadBytes = 16 * 1024

    static func parse(_ bytes: UnsafeRawBufferPointer) -> RawParse {
        if matches(bytes, 0, "CONNECT ") { return .badRequest }
        let length: Int
        switch headLength(bytes) {
        case .bareLineFeed:
            return couldBeRequestStart(bytes) ? .badRequest : .unsupported
        case .incomplete:
            // Waiting is only right for what could still become a request: binary garbage
            // (a TLS hello, say) goes to NIO's parser at once, which answers 400.
            return bytes.count > maxHeadBytes || !couldBeRequestStart(bytes) ? .unsupported : .needMore
        case let .complete(count):
            length = count
        }
        var lines = LineReader(bytes: bytes, end: length - 2)
        guard let requestLine = lines.next(), var head = parseRequestLine(bytes, requestLine) else {
            return lines.malformed ? .badRequest : .unsupported
        }
        while let line = lines.next() {
            guard line.count > 0, field(bytes, line, into: &head) else { return .unsupported }
        }
        guard !lines.malformed else { return .badRequest }
        if head.refused || head.hostFields > 1 || (head.isHTTP11 && head.hostFields == 0) { return .badRequest }
        return .request(head, length: length)
    }

    private enum HeadEnd { case complete(Int), incomplete, bareLineFeed }

    /// The length of the head including its final CRLF CRLF, if it is all there. A LF
    /// without its CR before the end ends the search: such a head never completes.
    private static func headLength(_ b: UnsafeRawBufferPointer) -> HeadEnd {
        var i = 0
        let limit = min(b.count, maxHeadBytes)
        while i < limit {
            if b[i] == lf {
                guard i > 0, b[i - 1] == cr else { return .bareLineFeed }
                if i >= 3 && b[i - 2] == lf && b[i - 3] == cr { return .complete(i + 1) }
            }
            i += 1
        }
        return .incomplete
    }

    /// Whether an incomplete head is a well-formed start of one: a token, a space, a
    /// visible-ASCII target, a space and a prefix of `HTTP/1.`, then only text and line ends.
    private static func couldBeRequestStart(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < b.count, isTokenByte(b[i]) { i += 1 }
        guard i < b.count else { return true }
        guard i > 0, b[i] == space else { return false }
        i += 1
        while i < b.count, b[i] > space, b[i] < 0x7F { i += 1 }
        guard i < b.count else { return true }
        guard b[i] == space else { return false }
        i += 1
        let version = UnsafeRawBufferPointer(start: StaticString("HTTP/1.").utf8Start, count: 7)
        for k in 0..<7 {
            guard i < b.count else { return true }
            guard b[i] == version[k] else { return false }
            i += 1
        }
        while i < b.count {
            guard isFieldValueByte(b[i]) || b[i] == cr || b[i] == lf else { return false }
            i += 1
        }
        return true
    }

    /// `METHOD SP /target SP HTTP/1.x`.
    private static func parseRequestLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>) -> RawRequestHead? {
        var i = line.lowerBound
        while i < line.upperBound, isTokenByte(b[i]) { i += 1 }
        let methodEnd = i
        guard methodEnd > line.lowerBound, i < line.upperBound, b[i] == space else { return nil }
        i += 1
        let targetStart = i
        guard i < line.upperBound, b[i] == UInt8(ascii: "/") else { return nil }
        while i < line.upperBound, b[i] > space, b[i] < 0x7F { i += 1 }
        let targetEnd = i
        guard i < line.upperBound, b[i] == space, line.upperBound - (i + 1) == 8 else { return nil }
        let version = i + 1
        guard matches(b, version, "HTTP/1.") else { return nil }
        let minor = b[version + 7]
        guard minor == UInt8(ascii: "1") || minor == UInt8(ascii: "0") else { return nil }
        // Method names are case-sensitive.
        let methodLength = methodEnd - line.lowerBound
        let method: RawRequestHead.Method =
            methodLength == 3 && matches(b, line.lowerBound, "GET ") ? .get
            : methodLength == 4 && matches(b, line.lowerBound, "HEAD ") ? .head : .other
        // The query plays no part in what is served.
        let pathEnd = b[targetStart..<targetEnd].firstIndex(of: UInt8(ascii: "?")) ?? targetEnd
        let route = RequestPath.parse(UnsafeRawBufferPointer(rebasing: b[targetStart..<pathEnd]))
        return RawRequestHead(method: method, target: targetStart..<targetEnd, route: route, fields: RequestFields(),
                              close: minor == UInt8(ascii: "0"), isHTTP11: minor == UInt8(ascii: "1"))
    }

    /// One `name: value` line; false when it is malformed or names something the fast
    /// path must not take on.
    private static func field(_ b: UnsafeRawBufferPointer, _ line: Range<Int>, into head: inout RawRequestHead) -> Bool {
        var i = line.lowerBound
        while i < line.upperBound, isTokenByte(b[i]) { i += 1 }
        let name = line.lowerBound..<i
        guard !name.isEmpty, i < line.upperBound, b[i] == UInt8(ascii: ":") else { return false }
        i += 1
        guard b[i..<line.upperBound].allSatisfy(isFieldValueByte) else { return false }
        let value = b[i..<line.upperBound].trimmingOWS()

        switch name.count {
        case 7 where matchesExactly(b, name, "upgrade"), 6 where matchesExactly(b, name, "expect"):
            return false
        case 17 where matchesExactly(b, name, "transfer-encoding"):
            // A chunked body belongs to NIO's parser; any other coding is refused here,
            // before anything could answer the request as if it had no body.
            if !matchesExactly(b, value.startIndex..<value.endIndex, "chunked") { head.refused = true }
            return head.refused
        case 14 where matchesExactly(b, name, "content-length"):
            // Only an explicit zero: any body belongs to NIO's parser.
            return value.count == 1 && value.first == UInt8(ascii: "0")
        case 4 where matchesExactly(b, name, "host"):
            head.hostFields += 1
            return true
        case 10 where matchesExactly(b, name, "connection"):
            // Browsers send `Connection: keep-alive` with every request: read it in place.
            let options = value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            if options.contains(where: { let o = $0.trimmingOWS(); return matchesExactly(b, o.startIndex..<o.endIndex, "close") }) {
                head.close = true
            }
            return true
        default:
            if let field = RequestFields.Name(lowercased: b[name].lazy.map(asciiLowercased)) {
                head.fields.append(String(decoding: UnsafeRawBufferPointer(rebasing: value), as: UTF8.self), to: field)
            }
            return true
        }
    }

    // MARK: Bytes

    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Visible ASCII, space, tab and obs-text; no other control character.
    private static func isFieldValueByte(_ c: UInt8) -> Bool {
        c == tab || (c >= space && c != 0x7F)
    }

    /// `b[at...]` starts with `text` (case-sensitive).
    private static func matches(_ b: UnsafeRawBufferPointer, _ at: Int, _ text: StaticString) -> Bool {
        guard at + text.utf8CodeUnitCount <= b.count else { return false }
        let t = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        for k in 0..<t.count where b[at + k] != t[k] { return false }
        return true
    }

    /// `b[range]` equals `lowercase` ignoring ASCII case (`lowercase` is lower-case ASCII).
    private static func matchesExactly(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: some StringProtocol) -> Bool {
        guard range.count == lowercase.utf8.count else { return false }
        var i = range.lowerBound
        for c in lowercase.utf8 {
            if asciiLowercased(b[i]) != c { return false }
            i += 1
        }
        return true
    }

    /// Splits `0..<end` at CRLF; a bare CR or LF inside a line marks the head malformed.
    private struct LineReader {
        let bytes: UnsafeRawBufferPointer
        let end: Int
        var position = 0
        var malformed = false

        mutating func next() -> Range<Int>? {
            guard position < end, !malformed else { return nil }
            var i = position
            while i < end {
                let c = bytes[i]
                if c == RawRequestParser.cr {
                    guard i + 1 < bytes.count, bytes[i + 1] == RawRequestParser.lf else { malformed = true; return nil }
                    let line = position..<i
                    position = i + 2
                    return line
                }
                if c == RawRequestParser.lf { malformed = true; return nil }
                i += 1
            }
            malformed = true
            return nil
        }
    }
}
