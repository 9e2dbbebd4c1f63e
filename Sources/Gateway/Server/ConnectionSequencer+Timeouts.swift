import NIOCore

/// A connection's timeouts and its part in making room under the connection cap: the
/// loop's sweep (`LoopConnections`) calls these between events, reading the state the
/// sequencer keeps.
extension ConnectionSequencer {
    enum Watch: Equatable {
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

    /// Called by the loop's sweep: closes the connection once it has stayed in one state
    /// longer than that state's limit.
    func checkTimeouts(now: NIODeadline, limits: ConnectionLimits) {
        guard let context else { return }
        let channel = context.channel
        let state: Watch
        let limit: Duration?
        if mode == .closing || !channel.isWritable || sendingFile {
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
        guard mode == .answering, unread == nil, !sendingFile, let channel = context?.channel, channel.isWritable
        else { return nil }
        return (lastActive, answered > 0, number)
    }

    func closeForRoom() { context?.close(promise: nil) }
}
