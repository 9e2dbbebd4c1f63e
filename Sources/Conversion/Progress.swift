import Foundation
import Synchronization

/// Progress of a job: a redrawn bar on a terminal, nothing per item otherwise (the
/// caller logs milestones), so logs stay one line per event.
public final class ProgressReporter: Sendable {
    private struct State {
        var done = 0
        var bytes = 0
        var lastDraw = 0.0
    }
    private let total: Int
    private let label: String
    private let start = Date()
    private let interactive: Bool
    private let state = Mutex(State())

    public init(total: Int, label: String, interactive: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.label = label
        self.interactive = interactive
    }

    public var elapsed: Double { Date().timeIntervalSince(start) }

    /// Records one finished item that processed `bytes` of input.
    public func advance(bytes: Int) {
        let snapshot: (Int, Int)? = state.withLock { s in
            s.done += 1
            s.bytes += bytes
            let now = Date().timeIntervalSince(start)
            guard interactive, now - s.lastDraw >= 0.1 || s.done == total else { return nil }
            s.lastDraw = now
            return (s.done, s.bytes)
        }
        if let (done, bytes) = snapshot { draw(done: done, bytes: bytes) }
    }

    private func draw(done: Int, bytes: Int) {
        let width = 30
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let filled = Int(fraction * Double(width))
        let rate = Double(bytes) / max(elapsed, 1e-6) / 1e6
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(format: "\r%@ [%@] %3.0f%% %d/%d objects %.1f MB/s", label, bar, fraction * 100, done, total, rate)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the bar before other output.
    public func finish() {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
