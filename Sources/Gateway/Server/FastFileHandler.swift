import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers the requests that dominate a viewer's traffic — GET/HEAD of a chunk, a shard
/// range or a missing key in a local, public root — on the event loop, as soon as the
/// request is parsed, without entering Hummingbird's async request path. Profiles showed
/// that path (async channel, task per request) costing more CPU than the file I/O and the
/// HTTP parsing together.
///
/// It sits in Hummingbird's HTTP/1 pipeline after the HTTP codec. NIO's pipelining
/// handler in front delivers one request at a time, so answers stay in order whichever
/// side produced them. Anything it does not fully own passes through untouched:
/// other methods, auth-checked requests, S3 roots, listings, metadata the gateway may
/// rewrite (`zarr.json`, `.zmetadata`), bodies above the inline limit (a small range of a
/// large shard is not one), and every error.
/// The answer is built by the same `ObjectResponse.plan` as the responder's.
final class FastFileHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let gateway: Gateway
    /// The answer to the request being read, sent when its end arrives.
    private var answer: (head: HTTPResponse, body: ByteBuffer?, close: Bool)?

    init(gateway: Gateway) { self.gateway = gateway }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(request):
            if answer == nil, let prepared = gateway.fastAnswer(request, remote: context.channel.remoteAddress) {
                answer = prepared
                return
            }
            context.fireChannelRead(data)
        case .body:
            if answer == nil { context.fireChannelRead(data) }
        case .end:
            guard let (head, body, close) = answer else { return context.fireChannelRead(data) }
            answer = nil
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
            if close {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

extension Gateway {
    /// The complete answer to `request` if the fast path owns it, else nil.
    func fastAnswer(_ request: HTTPRequest, remote: SocketAddress?) -> (head: HTTPResponse, body: ByteBuffer?, close: Bool)? {
        guard request.method == .get || request.method == .head, let target = request.path else { return nil }
        let start = ContinuousClock.now
        let path = target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
        guard case let .object(rootName, key, false) = RequestPath.parse(path), !key.isEmpty,
              let source = fastRoots[rootName] else { return nil }
        if policy.isEnabled && request.headerFields[.authorization] != nil { return nil }
        if consolidate && ConsolidatedMetadata.mayGenerate(key) { return nil }
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer?
        do {
            if let object = try source.openNow(key) {
                let plan = ObjectResponse.plan(size: object.size, validators: object.validators, key: key,
                                               method: request.method, headers: request.headerFields, cacheControl: cacheControl)
                // Large bodies stream through the responder; a small range of a big shard stays here.
                guard (plan.body?.count ?? 0) <= FileObjectSource.inlineLimit else { return nil }
                status = plan.status
                headers = plan.headers
                body = try plan.body.map(object.read)
            } else {
                status = .notFound
                headers = [.contentLength: "0"]
            }
        } catch {
            return nil // the responder answers failures, with their message
        }
        metrics.started()
        addCORS(&headers, request: request.headerFields, method: request.method)
        headers[.date] = HTTPDate.now()
        let close = request.headerFields[.connection]?.lowercased() == "close"
        if close { headers[.connection] = "close" }
        record(method: request.method, path: String(target), requestHeaders: request.headerFields, status: status.code,
               bytes: body?.readableBytes ?? 0, root: rootName, since: start, remote: remote?.ipAddress ?? "-")
        return (HTTPResponse(status: status, headerFields: headers), body, close)
    }
}
