import NIOCore
import NIOHTTP1
import NIOPosix

/// The gateway's hot path: the first handler on every connection, reading request heads
/// straight from the socket's bytes and answering object requests it owns (see
/// `Gateway.fastAnswer`) without NIO's HTTP parser, the HTTPTypes conversion or
/// Hummingbird's async request path. Profiles of a chunk server are dominated by that
/// per-request machinery, not by file I/O.
///
/// Requests it does not own are handed on, one at a time and byte for byte, to the
/// ordinary pipeline behind it (NIO's HTTP/1 codec, then Hummingbird and
/// `GatewayResponder`). While the responder works on one, later pipelined bytes wait
/// here, so answers leave in request order; `SlowAnswerObserver` reports when the
/// responder's answer is complete. A head the strict `RawRequestParser` will not take on
/// (malformed, with a body, an upgrade) hands the whole connection to NIO's parser.
///
/// Input is held back (no `read()`) while the responder works and while the socket is
/// not writable, so a client that sends without reading cannot grow our buffers.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Mode: Equatable {
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
    /// False with `TESSERA_FAST_PATH=0`: every request goes to the responder, through
    /// the same connection handling.
    private let answers: Bool
    /// This event loop's open files, shared by its connections.
    private let files: OpenFileCache
    private var mode = Mode.answering
    /// Bytes received and not yet parsed or handed on.
    private var unread: ByteBuffer?
    /// A `read()` we held back; issued when input flows again.
    private var heldRead = false
    /// The client closed its sending side; the pipeline behind hears of it once every
    /// request before has been answered.
    private var inputClosed = false
    private var needsFlush = false
    /// A file body was written since the last flush: the flush is corked so its head and
    /// body leave in full segments (as nginx's tcp_nopush), not a lone head packet first.
    private var corkNextFlush = false
    /// File bodies written and not yet fully sent, oldest first (see `watchFilesInFlight`).
    private var filesInFlight = CircularBuffer<(handle: NIOFileHandle, end: Int)>()
    private var truncationWatch: RepeatedTask?
    /// Bytes went to the pipeline behind in this read cycle, so it needs the
    /// read-complete event (otherwise the event stops here: nothing behind is waiting).
    private var handedOn = false
    private var context: ChannelHandlerContext?

    // Timeouts and the connection cap (ConnectionGovernor): the sweep of this loop's
    // connections reads these; the hot path only bumps counters.
    private let connections: LoopConnections
    /// Counted by the governor (and listed in `connections`) until the connection ends.
    private var admitted = false
    /// Over the connection cap: answered 503 and closed as soon as it is active.
    private var refused = false
    private var answered = 0
    private var reads = 0
    private var writes = 0
    /// What the last sweep saw and since when; a timeout runs while it stays the same.
    private var watched: (state: Watch, since: NIODeadline)?
    /// The loop's sweep tick when the connection started or last finished an answer.
    private var lastActive: NIODeadline
    /// This connection's number on its loop (`LoopConnections.add`).
    private var number = 0

    private enum Watch: Equatable {
        /// Waiting for a request (the first one if `answered` is 0).
        case waiting(answered: Int)
        /// Part of a head is here, not all of it.
        case readingHead(answered: Int)
        /// NIO's parser has the connection: any read or write is progress.
        case passthrough(progress: Int)
        /// An answer cannot leave as fast as it is written; progress is the buffer shrinking.
        case sending(buffered: Int)
        /// The responder is working on an answer (bounded by its own limits).
        case responder
    }

    init(gateway: Gateway, answers: Bool, files: OpenFileCache, connections: LoopConnections) {
        self.gateway = gateway
        self.answers = answers
        self.files = files
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

    /// Writes a whole bodiless answer the handler makes itself and ends the connection
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

    // MARK: Timeouts and room

    /// Called by the loop's sweep: closes the connection once it has stayed in one state
    /// longer than that state's limit.
    func checkTimeouts(now: NIODeadline, limits: ConnectionLimits) {
        guard let context else { return }
        let channel = context.channel
        let state: Watch
        let limit: Duration?
        if mode == .closing || !channel.isWritable || !filesInFlight.isEmpty {
            state = .sending(buffered: (try? channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0)
            limit = limits.send
        } else {
            switch mode {
            case .answering where unread == nil:
                state = .waiting(answered: answered)
                limit = answered == 0 ? limits.header : limits.idle
            case .answering:
                state = .readingHead(answered: answered)
                limit = limits.header
            case .passthrough:
                state = .passthrough(progress: reads &+ writes)
                limit = limits.idle
            case .awaitingResponder, .closing:
                state = .responder
                limit = nil
            }
        }
        guard let watched, watched.state == state else {
            watched = (state, now)
            return
        }
        if let limit, now - watched.since >= TimeAmount(limit) { context.close(promise: nil) }
    }

    /// Since when (to a sweep's resolution) the connection has been idle — waiting for a
    /// request with nothing left to send — whether it ever asked for anything, and its
    /// number; nil if it is not idle. Idle connections are closed first to make room.
    func idleSince() -> (since: NIODeadline, used: Bool, number: Int)? {
        guard mode == .answering, unread == nil, filesInFlight.isEmpty, let channel = context?.channel, channel.isWritable
        else { return nil }
        return (lastActive, answered > 0, number)
    }

    func closeForRoom() { context?.close(promise: nil) }

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
                if answers, let answer = gateway.fastAnswer(head, head: headBytes, files: files, allocator: channel.allocator,
                                                            remote: channel.remoteAddress?.ipAddress ?? "-") {
                    send(answer, context)
                } else {
                    mode = .awaitingResponder(thenClose: head.close)
                    context.fireChannelRead(wrapInboundOut(headBytes))
                    return true
                }
            }
        }
        return false
    }

    private func send(_ answer: FastAnswer, _ context: ChannelHandlerContext) {
        answered &+= 1
        lastActive = connections.tick
        context.write(wrapOutboundOut(.byteBuffer(answer.bytes)), promise: nil)
        if let (lease, span) = answer.file {
            sendFile(lease, span, context)
            corkNextFlush = true
        }
        needsFlush = true
        if answer.close {
            mode = .closing
            unread = nil
            closeAfterWrites(context)
        }
    }

    /// A large body goes out by sendfile, straight from the page cache; the transfer on
    /// the lease ends once NIO is done with it.
    private func sendFile(_ lease: OpenFileLease, _ span: Range<Int>, _ context: ChannelHandlerContext) {
        let handle = lease.fileHandle!
        let region = FileRegion(fileHandle: handle, readerIndex: span.lowerBound, endIndex: span.upperBound)
        let written = context.eventLoop.makePromise(of: Void.self)
        filesInFlight.append((handle, span.upperBound))
        written.futureResult.assumeIsolated().whenComplete { _ in
            // Writes complete in order, so this is the oldest file still in flight.
            self.filesInFlight.removeFirst()
            lease.endTransfer()
        }
        context.write(wrapOutboundOut(.fileRegion(region)), promise: written)
    }

    /// NIO retries a sendfile that returns nothing, which is what a file truncated
    /// underneath returns: the client would wait forever and the loop would spin. While
    /// a file body is still being sent after a flush (rare: most leave within it), a watch
    /// checks once a second that the file still reaches the end of its span, and ends the
    /// connection if not (the client sees a short body).
    private func watchFilesInFlight(_ context: ChannelHandlerContext) {
        guard !filesInFlight.isEmpty, truncationWatch == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        truncationWatch = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
            let handler = bound.value
            guard let (handle, end) = handler.filesInFlight.first else {
                task.cancel()
                handler.truncationWatch = nil
                return
            }
            let size = try? handle.withUnsafeFileDescriptor { fd -> Int in
                var st = stat()
                return fstat(fd, &st) == 0 ? Int(st.st_size) : -1
            }
            if (size ?? -1) < end {
                task.cancel()
                handler.truncationWatch = nil
                channel.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        truncationWatch?.cancel()
        truncationWatch = nil
        context.fireChannelInactive()
    }

    // MARK: The responder's side

    /// Called by `SlowAnswerObserver` once the responder has written its answer's end.
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
        guard corkNextFlush, let options = context.channel.syncOptions else { return context.flush() }
        corkNextFlush = false
        let cork = ChannelOptions.Types.SocketOption(level: .init(rawValue: CInt(IPPROTO_TCP)), name: .init(rawValue: CInt(TCP_CORK)))
        try? options.setOption(cork, value: 1)
        context.flush()
        try? options.setOption(cork, value: 0)
        watchFilesInFlight(context)
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

/// Sits behind NIO's HTTP/1 codec and tells the fast path when the responder has written
/// the end of an answer, so it can take up the next pipelined request.
final class SlowAnswerObserver: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private weak var fastPath: FastPathHandler?

    init(fastPath: FastPathHandler) { self.fastPath = fastPath }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if isEnd { fastPath?.responderAnswerWritten() }
    }
}
