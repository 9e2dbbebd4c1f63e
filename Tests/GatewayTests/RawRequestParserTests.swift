import Testing
@testable import Gateway

@Suite struct RawRequestParserTests {
    private func parse(_ text: String) -> RawParse {
        Array(text.utf8).withUnsafeBytes { RawRequestParser.parse($0) }
    }

    private func head(_ text: String) -> RawRequestHead? {
        if case let .request(head, length) = parse(text), length == text.utf8.count { return head }
        return nil
    }

    private func isUnsupported(_ text: String) -> Bool {
        if case .unsupported = parse(text) { return true }
        return false
    }

    @Test func readsTheRequestLineAndTheFieldsAnAnswerNeeds() throws {
        let text = "GET /img/0/c/0?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\nRANGE:  bytes=0-9 \r\nOrigin: https://o\r\n\r\n"
        let h = try #require(head(text))
        #expect(h.method == .get && !h.close)
        #expect(String(decoding: Array(text.utf8)[h.target], as: UTF8.self) == "/img/0/c/0?x=1")
        #expect(h.route == .object(root: "img", key: "0/c/0", isFolder: false))
        #expect(head("GET /img/a%20b/..%2f HTTP/1.1\r\nHost: a\r\n\r\n")?.route == .rejected)
        #expect(head("GET /healthz?probe HTTP/1.1\r\nHost: a\r\n\r\n")?.route == .health)
        #expect(h.fields.range == "bytes=0-9" && h.fields.origin == "https://o" && h.fields.ifNoneMatch == nil)
        #expect(head("HEAD /a HTTP/1.1\r\nHost: a\r\n\r\n")?.method == .head)
        #expect(head("get /a HTTP/1.1\r\nHost: a\r\n\r\n")?.method == .other) // methods are case-sensitive
        #expect(head("OPTIONS /a HTTP/1.1\r\nHost: a\r\n\r\n")?.method == .other)
    }

    @Test func repeatedFieldsAreJoinedAndCloseIsFound() {
        #expect(head("GET /a HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nrange: bytes=4-5\r\n\r\n")?.fields.range == "bytes=0-1, bytes=4-5")
        #expect(head("GET /a HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n")?.close == true)
        #expect(head("GET /a HTTP/1.1\r\nHost: a\r\nConnection:close\r\n\r\n")?.close == true)
        #expect(head("GET /a HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")?.close == false)
        #expect(head("GET /a HTTP/1.1\r\nHost: a\r\nConnection: closed, ,x\r\n\r\n")?.close == false)
        #expect(head("GET /a HTTP/1.0\r\n\r\n")?.close == true) // HTTP/1.0 closes; Host optional
        #expect(head("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") != nil)
    }

    @Test func waitsOnlyForWhatCanStillBecomeARequest() {
        for partial in ["G", "GET /a", "GET /a HTTP/1", "GET /a HTTP/1.1\r\nHost: a\r\n", "GET /a HTTP/1.1\r\nHost: a\r\n\r"] {
            if case .needMore = parse(partial) {} else { Issue.record("\(partial.debugDescription) should wait") }
        }
        #expect(isUnsupported("\u{16}\u{03}\u{01}\u{02}\0"))   // a TLS hello
        #expect(isUnsupported("GET  /a"))                     // two spaces
        #expect(isUnsupported("GET /a XTTP"))
        #expect(isUnsupported("GET /" + String(repeating: "a", count: 17_000)))
    }

    @Test(arguments: [
        "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",        // a body
        "GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",                   // obsolete line folding
        "GET /a HTTP/1.1\r\nBad Name: x\r\nHost: a\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX: a\u{7f}b\r\n\r\n",               // a control character
        "GET http://h/a HTTP/1.1\r\nHost: a\r\n\r\n",                      // absolute form
        "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a HTTP/2.0\r\nHost: a\r\n\r\n",
        "GET /a\u{e9} HTTP/1.1\r\nHost: a\r\n\r\n",                         // a raw non-ASCII target
    ])
    func leavesEverythingElseToNIO(_ text: String) {
        #expect(isUnsupported(text))
    }

    @Test func hostRulesAreRFC9112s() {
        for text in ["GET /a HTTP/1.1\r\n\r\n", "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "GET /a HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"] {
            if case .badRequest = parse(text) {} else { Issue.record("\(text.debugDescription) should be a 400") }
        }
    }

    /// Issue 14.8: these got no answer at all (the connection waited forever) or an
    /// answer before NIO's parser refused them.
    @Test(arguments: [
        "GET /a HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",      // a bare LF inside the head
        "GET /a HTTP/1.1\nHost: a\n\n",                     // bare LFs only: never a CRLF CRLF
        "GET /a HTTP/1.1\nHost: a\n",                        // the same, still incomplete
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    ])
    func answers400ToWhatCouldNeverBeServed(_ text: String) {
        if case .badRequest = parse(text) {} else { Issue.record("\(text.debugDescription) should be a 400") }
    }

    @Test func findsTheEndOfTheFirstOfPipelinedHeads() {
        let first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        if case let .request(h, length) = parse(first + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n") {
            #expect(h.route == .object(root: "a", key: "", isFolder: false) && length == first.utf8.count)
        } else {
            Issue.record("no request")
        }
    }
}
