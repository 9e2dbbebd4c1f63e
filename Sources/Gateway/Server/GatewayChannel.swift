import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The gateway's HTTP/1 connection: Hummingbird's own HTTP/1 pipeline with the
/// `ConnectionSequencer` in front of NIO's HTTP codec. Requests the sequencer hands on
/// reach `GatewayResponder` exactly as they would through `HTTP1Channel`, whose setup
/// this follows step for step. The sequencer is always there, as it also keeps pipelined
/// answers in order, closes HTTP/1.0 connections and keeps the timeouts; `fastPath`
/// decides whether it answers anything itself (with it off, no fast-path code runs).
struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let gateway: Gateway
    /// Off with `TESSERA_FAST_PATH=0`: every request then takes the responder (tests run
    /// the HTTP suites both ways).
    let fastPath: Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            // NIO counts a file body's bytes as pending writes although they stay in the
            // page cache; with its 64 KiB default every chunk answer flipped the channel
            // to unwritable and back (two events through the pipeline per answer).
            try channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
            let sequencer = ConnectionSequencer(gateway: gateway,
                                                files: fastPath ? gateway.fileCache(on: channel.eventLoop) : nil,
                                                connections: gateway.governor.connections(on: channel.eventLoop))
            try pipeline.addHandler(sequencer)
            let defaults = HTTP1Channel.Configuration().httpDecoder
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = defaults.maxHeaderFieldSize
            limits.maxHeaderListSize = defaults.maxHeaderListSize
            limits.maxHeaderFieldCount = defaults.maxHeaderFieldCount
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, // the async channel answers one request at a time
                withErrorHandling: false, // Hummingbird answers parse errors with 400
                withOutboundHeaderValidation: false, // HTTPTypes validates fields already
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits
            )
            try pipeline.addHandler(GeneralPathGuard())
            try pipeline.addHandler(ResponderAnswerObserver(sequencer: sequencer))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
