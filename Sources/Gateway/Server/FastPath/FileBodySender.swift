import NIOCore
import NIOPosix

/// Sends the bodies of the fast path's file answers on one connection. A small body is
/// read into the answer's head buffer (`readsInline`), so head and body leave in one
/// write; a large one goes out by sendfile, straight from the page cache, and the flush
/// after it is corked so head and body leave in full segments (as nginx's tcp_nopush),
/// not a lone head packet first. It also ends the connection when a file being sent is
/// truncated underneath (see `watchFilesInFlight`).
///
/// Used on the connection's event loop only; made only when the fast path is on.
final class FileBodySender {
    /// File bodies written and not yet fully sent, oldest first.
    private var filesInFlight = CircularBuffer<(handle: NIOFileHandle, end: Int)>()
    /// A file body was written since the last flush: the next flush is corked.
    private var corkNextFlush = false
    private var truncationWatch: RepeatedTask?

    /// Whether a body of `count` bytes is read into the head's buffer rather than sent by
    /// sendfile: below the threshold one copy costs less than a second system call.
    static func readsInline(_ count: Int) -> Bool { count < FileObjectSource.sendfileThreshold }

    /// A file body is still on its way to the client.
    var isSending: Bool { !filesInFlight.isEmpty }

    /// Writes `span` of the leased file (unflushed) as a file region; the transfer begun on
    /// the lease ends once NIO is done with it.
    func write(_ lease: OpenFileLease, _ span: Range<Int>, _ context: ChannelHandlerContext) {
        guard let handle = lease.fileHandle else {
            // A lease with a body always has a file; should it not, the head promised
            // bytes that cannot follow, so the connection ends.
            lease.endTransfer()
            return context.close(promise: nil)
        }
        let region = FileRegion(fileHandle: handle, readerIndex: span.lowerBound, endIndex: span.upperBound)
        let written = context.eventLoop.makePromise(of: Void.self)
        filesInFlight.append((handle, span.upperBound))
        written.futureResult.assumeIsolated().whenComplete { _ in
            // Writes complete in order, so this is the oldest file still in flight.
            self.filesInFlight.removeFirst()
            lease.endTransfer()
        }
        context.write(NIOAny(IOData.fileRegion(region)), promise: written)
        corkNextFlush = true
    }

    /// Flushes the connection, corked if a file body was written since the last flush.
    func flush(_ context: ChannelHandlerContext) {
        guard corkNextFlush, let options = context.channel.syncOptions else { return context.flush() }
        corkNextFlush = false
        let cork = ChannelOptions.Types.SocketOption(level: .init(rawValue: CInt(IPPROTO_TCP)), name: .init(rawValue: CInt(TCP_CORK)))
        try? options.setOption(cork, value: 1)
        context.flush()
        try? options.setOption(cork, value: 0)
        watchFilesInFlight(context)
    }

    /// The connection has ended: nothing is watched any more.
    func stop() {
        truncationWatch?.cancel()
        truncationWatch = nil
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
            let sender = bound.value
            guard let (handle, end) = sender.filesInFlight.first else {
                task.cancel()
                sender.truncationWatch = nil
                return
            }
            let size = try? handle.withUnsafeFileDescriptor { fd -> Int in
                var st = stat()
                return fstat(fd, &st) == 0 ? Int(st.st_size) : -1
            }
            if (size ?? -1) < end {
                task.cancel()
                sender.truncationWatch = nil
                channel.close(promise: nil)
            }
        }
    }
}
