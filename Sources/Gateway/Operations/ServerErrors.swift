#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Failed requests as clients and operators see them: a client gets a generic message
/// and a request id, the server's log (stderr) gets the id with what really failed —
/// paths, bucket names and errno texts describe the server, not the request.
final class ServerErrors: Sendable {
    private let counter = Atomic<UInt64>(0)
    /// Distinguishes ids of different server runs in one log.
    private let run = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    /// A new request id, with `detail` logged under it.
    func record(_ detail: String) -> String {
        let id = "\(run)-\(counter.add(1, ordering: .relaxed).newValue)"
        let line = Array("tessera serve: request \(id): \(detail)\n".utf8)
        line.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(2, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
        return id
    }
}

/// The process has no descriptor left to open a file with: the answer is a 503 (try
/// again), not a storage error.
struct DescriptorsExhausted: Error, CustomStringConvertible {
    let key: String
    var description: String { "no descriptor left to open '\(key)'" }
}
