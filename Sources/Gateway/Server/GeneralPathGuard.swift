import NIOCore
import NIOHTTP1

/// Behind NIO's HTTP/1 parser: the request rules the fast path's parser keeps
/// (`RawParse.badRequest`), for the heads that parser handed over to NIO's (requests with
/// bodies, unusual syntax). Without it those requests reached the responder and got a
/// 405 or a 200 where RFC 9112 requires a 400: several Host fields, none in HTTP/1.1,
/// `CONNECT`, or a transfer coding other than chunked. The 400 closes the connection.
final class GeneralPathGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A 400 went out: nothing more from this connection is read.
    private var refusing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing { return }
        if case let .head(head) = unwrapInboundIn(data), Self.refuses(head) {
            refusing = true
            let answer = HTTPResponseHead(version: .http1_1, status: .badRequest,
                                          headers: ["Content-Length": "0", "Connection": "close"])
            context.write(wrapOutboundOut(.head(answer)), promise: nil)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                bound.value.close(promise: nil)
            }
            return
        }
        context.fireChannelRead(data)
    }

    static func refuses(_ head: HTTPRequestHead) -> Bool {
        let hosts = head.headers["Host"].count
        if hosts > 1 || (head.version == .http1_1 && hosts == 0) { return true }
        if head.method == .CONNECT { return true }
        let codings = head.headers["Transfer-Encoding"]
        if !codings.isEmpty {
            let only = codings.count == 1 ? codings[0].trimmingCharacters(in: " \t") : ""
            if only.lowercased() != "chunked" { return true }
        }
        return false
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> Substring {
        let isSpace = { (c: Character) in set.contains(c) }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
