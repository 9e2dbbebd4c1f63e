import NIOCore
import NIOHTTP1

/// Sits behind NIO's HTTP/1 codec and tells the connection's sequencer when the responder
/// has written the end of an answer, so it can take up the next pipelined request.
/// An answer whose head says `Connection: close` closes the connection once written:
/// Hummingbird itself closes only when the *request* said so, and otherwise reads and
/// discards the rest of an unread request body before the next request — an upload refused
/// before its body (413, 507, …) would have its gigabytes drained (Docs/catalog.md, "Uploads").
final class ResponderAnswerObserver: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private weak var sequencer: ConnectionSequencer?
    private var closeAfterEnd = false

    init(sequencer: ConnectionSequencer) { self.sequencer = sequencer }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case let .head(head) = part {
            closeAfterEnd = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
        }
        guard case .end = part else {
            context.write(data, promise: promise)
            return
        }
        guard closeAfterEnd else {
            context.write(data, promise: promise)
            sequencer?.responderAnswerWritten()
            return
        }
        closeAfterEnd = false
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.cascade(to: promise)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        context.write(data, promise: written)
        context.flush()
        sequencer?.responderAnswerWritten()
    }
}
