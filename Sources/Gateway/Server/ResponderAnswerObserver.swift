import NIOCore
import NIOHTTP1

/// Sits behind NIO's HTTP/1 codec and tells the connection's sequencer when the responder
/// has written the end of an answer, so it can take up the next pipelined request.
final class ResponderAnswerObserver: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private weak var sequencer: ConnectionSequencer?

    init(sequencer: ConnectionSequencer) { self.sequencer = sequencer }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if isEnd { sequencer?.responderAnswerWritten() }
    }
}
