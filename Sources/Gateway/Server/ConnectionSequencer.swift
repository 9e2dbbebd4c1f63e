import NIOCore
import NIOHTTP1

/// The first handler on every connection: it reads request heads straight from the
/// socket's bytes, in order, and decides who answers each. With the fast path on, an
/// object request the fast path owns (see `Gateway.fastAnswer`) is answered right here,
/// without NIO's HTTP parser, the HTTPTypes conversion or Hummingbird's async request
/// path (profiles of a chunk server are dominated by that per-request machinery, not by
/// file I/O), its file body sent by `FileBodySender`. Every other request — all of them
/// with the fast path off — is handed on, one at a time and byte for byte, to the
/// ordinary pipeline behind (NIO's HTTP/1 codec, then Hummingbird and
/// `GatewayResponder`). While the responder works on one, later pipelined bytes wait
/// here, so answers leave in request order; `ResponderAnswerObserver` reports when the
/// responder's answer is complete. A head the strict `RawRequestParser` will not take on
/// (malformed, with a body, an upgrade) hands the whole connection to NIO's parser.
///
/// It also keeps the connection's timeouts and its place under the connection cap
/// (`ConnectionGovernor`), and holds input back (no `read()`) while the responder works
/// and while the socket is not writable, so a client that sends without reading cannot
/// grow our buffers.
final class ConnectionSequencer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    enum Mode: Equatable {
        /// Reading heads and answering what we own.
        case answering
        /// A request went to the responder; its answer is not complete yet. `thenClose`
        /// when the connection ends after it (HTTP/1.0, or `Connection: close`).
        case awaitingResponder(thenClose: Bool)
        /// The connection belongs to NIO's parser from here on.
        case passthrough
        /// No more requests are read (Connection: close, or shutting down).
        case closing
    }

    private let gateway: Gateway
    /// The fast path's share of the connection: this event loop's open files (shared by
    /// its connections) and this connection's file-body sender. Nil with
    /// `TESSERA_FAST_PATH=0`: every request then goes straight to the responder, through
    /// the same connection handling.
    private let fastPath: (files: OpenFileCache, bodies: FileBodySender)?
    private(set) var mode = Mode.answering
    /// Bytes received and not yet parsed or handed on.
    private(set) var unread: ByteBuffer?
    /// A `read()` we held back; issued when input flows again.
    private var heldRead = false
    /// The client closed its sending side; the pipeline behind hears of it once every
    /// request before has been answered.
    private var inputClosed = false
    private var needsFlush = false
    /// A file body is still on its way out (never with the fast path off).
    var sendingFile: Bool { fastPath?.bodies.isSending ?? false }
    /// Bytes went to the pipeline behind in this read cycle, so it needs the
    /// read-complete event (otherwise the event stops here: nothing behind is waiting).
    private var handedOn = false
    private(set) var context: ChannelHandlerContext?

    // Timeouts and the connection cap (ConnectionGovernor): the sweep of this loop's
    // connections reads these (ConnectionSequencer+Timeouts.swift); the hot path only
    // bumps counters.
    private let connections: LoopConnections
    /// Counted by the governor (and listed in `connections`) until the connection ends.
    private var admitted = false
    /// Over the connection cap: answered 503 and closed as soon as it is active.
    private var refused = false
    private(set) var answered = 0
    private(set) var reads = 0
    private(set) var writes = 0
    /// What the last sweep saw and since when; a timeout runs while it stays the same.
    var watched: (state: Watch, since: NIODeadline)?
    /// The loop's sweep tick when the connection started or last finished an answer.
    private(set) var lastActive: NIODeadline
    /// This connection's number on its loop (`LoopConnections.add`).
    private(set) var number = 0

    /// `files` is nil when the fast path is off.
    init(gateway: Gateway, files: OpenFileCache?, connections: LoopConnections) {
        self.gateway = gateway
        fastPath = files.map { ($0, FileBodySender()) }
        self.connections = connections
        lastActive = connections.tick
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if gateway.governor.admit(on: connections) {
            admitted = true
            number = connections.add(self)
        } else {
            refused = true
            if context.channel.isActive { refuse(context) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if refused { refuse(context) }
        context.fireChannelActive()
    }

    /// No room even after closing idle connections: a 503 the client may retry.
    private func refuse(_ context: ChannelHandlerContext) {
        guard mode != .closing else { return }
        answerAndClose(context, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n")
    }

    /// Writes a whole bodiless answer the sequencer makes itself and ends the connection
    /// once it is written; nothing more is read from it.
    private func answerAndClose(_ context: ChannelHandlerContext, _ answer: StaticString) {
        mode = .closing
        var buffer = context.channel.allocator.buffer(capacity: answer.utf8CodeUnitCount)
        buffer.writeStaticString(answer)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        needsFlush = true
        closeAfterWrites(context)
    }

    private func release() {
        guard admitted else { return }
        admitted = false
        gateway.governor.left()
        connections.remove(self)
    }

    // MARK: Input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads &+= 1
        switch mode {
        case .passthrough:
            handedOn = true
            return context.fireChannelRead(data)
        case .closing: return
        case .answering, .awaitingResponder: break
        }
        var bytes = unwrapInboundIn(data)
        if var buffered = unread {
            unread = nil // keep the storage uniquely referenced: appending must not copy it
            buffered.writeBuffer(&bytes)
            unread = buffered
        } else {
            unread = bytes
        }
        if mode == .answering, answerUnread(context) { handedOn = true }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context)
        if handedOn {
            handedOn = false
            context.fireChannelReadComplete()
        } else if mode == .answering {
            // Ask for the next bytes from here: NIO then sees a read pending and skips
            // sending autoRead's read() from the pipeline's tail through every handler
            // behind this one (which would only pass it on while nothing is handed on).
            read(context: context)
        }
    }

    /// Answers every complete head in `unread`, in order, until one goes to the responder.
    /// Returns whether anything was handed on (the caller then completes the read).
    @discardableResult
    private func answerUnread(_ context: ChannelHandlerContext) -> Bool {
        while mode == .answering, context.channel.isWritable, var buffer = unread {
            let parsed = buffer.withUnsafeReadableBytes { RawRequestParser.parse($0) }
            switch parsed {
            case .needMore:
                return false
            case .unsupported:
                unread = nil
                mode = .passthrough
                context.fireChannelRead(wrapInboundOut(buffer))
                releaseHeldRead(context)
                return true
            case .badRequest:
                unread = nil
                answerAndClose(context, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return false
            case let .request(head, length):
                let headBytes = buffer.readSlice(length: length)!
                unread = buffer.readableBytes > 0 ? buffer : nil
                let channel = context.channel
                if let fastPath, let answer = gateway.fastAnswer(head, head: headBytes, files: fastPath.files,
                                                                 allocator: channel.allocator,
                                                                 remote: channel.remoteAddress?.ipAddress ?? "-") {
                    send(answer, bodies: fastPath.bodies, context)
                } else {
                    mode = .awaitingResponder(thenClose: head.close)
                    context.fireChannelRead(wrapInboundOut(headBytes))
                    return true
                }
            }
        }
        return false
    }

    private func send(_ answer: FastAnswer, bodies: FileBodySender, _ context: ChannelHandlerContext) {
        answered &+= 1
        lastActive = connections.tick
        context.write(wrapOutboundOut(.byteBuffer(answer.bytes)), promise: nil)
        if let (lease, span) = answer.file { bodies.write(lease, span, context) }
        needsFlush = true
        if answer.close {
            mode = .closing
            unread = nil
            closeAfterWrites(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        fastPath?.bodies.stop()
        context.fireChannelInactive()
    }

    // MARK: The responder's side

    /// Called by `ResponderAnswerObserver` once the responder has written its answer's end.
    /// The next request is taken up on a later turn of the loop, so nothing is written
    /// from inside the responder's write.
    func responderAnswerWritten() {
        answered &+= 1
        lastActive = connections.tick
        guard case .awaitingResponder = mode, let context else { return }
        context.eventLoop.assumeIsolated().execute {
            guard case let .awaitingResponder(thenClose) = self.mode, let context = self.context else { return }
            if thenClose {
                self.mode = .closing
                self.unread = nil
                return self.closeAfterWrites(context)
            }
            self.mode = .answering
            self.resume(context)
        }
    }

    /// Takes up buffered requests again, outside a read cycle.
    private func resume(_ context: ChannelHandlerContext) {
        if answerUnread(context) { context.fireChannelReadComplete() }
        flushIfNeeded(context)
        if mode == .answering { releaseHeldRead(context) }
        deliverInputClosedIfDue(context)
    }

    // MARK: Flow control

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writes &+= 1
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        switch mode {
        case .passthrough: context.read()
        case .awaitingResponder, .closing: heldRead = true
        case .answering:
            if context.channel.isWritable { context.read() } else { heldRead = true }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if mode == .answering, context.channel.isWritable { resume(context) }
        context.fireChannelWritabilityChanged()
    }

    private func releaseHeldRead(_ context: ChannelHandlerContext) {
        guard heldRead else { return }
        heldRead = false
        context.read()
    }

    private func flushIfNeeded(_ context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        if let fastPath { fastPath.bodies.flush(context) } else { context.flush() }
    }

    /// Closes once everything written so far has left.
    private func closeAfterWrites(_ context: ChannelHandlerContext) {
        afterWrites(context) { $0.close(promise: nil) }
    }

    /// Runs `then` once everything written so far has left: writes complete in order, so
    /// an empty write's completion marks that point.
    private func afterWrites(_ context: ChannelHandlerContext, then: @escaping (ChannelHandlerContext) -> Void) {
        flushIfNeeded(context)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer()))).assumeIsolated().whenComplete { _ in
            then(loopBound.value)
        }
    }

    // MARK: Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch (event, mode) {
        case (is ChannelShouldQuiesceEvent, .answering):
            // Graceful shutdown: finish what was answered, then close. The pipeline
            // behind has nothing in flight.
            mode = .closing
            unread = nil
            closeAfterWrites(context)
        case (is ChannelShouldQuiesceEvent, .awaitingResponder):
            // The responder's connection handler closes after its answer.
            mode = .closing
            context.fireUserInboundEventTriggered(event)
        case (is ChannelShouldQuiesceEvent, .closing):
            break
        case (ChannelEvent.inputClosed, .answering), (ChannelEvent.inputClosed, .awaitingResponder),
             (ChannelEvent.inputClosed, .closing):
            inputClosed = true
            deliverInputClosedIfDue(context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A client that half-closes after its last request still gets every answer: the
    /// pipeline behind closes the output when it hears of the half-close, so it hears
    /// only after every buffered request is answered and those answers are out.
    private func deliverInputClosedIfDue(_ context: ChannelHandlerContext) {
        guard inputClosed else { return }
        switch mode {
        case .awaitingResponder, .passthrough: return
        case .answering where unread != nil && !context.channel.isWritable: return // resumed when writable
        case .answering, .closing: break
        }
        inputClosed = false
        unread = nil // an incomplete head can no longer complete
        afterWrites(context) { $0.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
    }
}
