import Foundation
import Synchronization

/// The CPU time of one piece of work (a job's work item), wherever it runs: the thread
/// that does it charges itself with `charge`, and `parallelFor` charges the threads it
/// takes for that work to the same account. So two items converting side by side in one
/// process each get their own CPU seconds, which getrusage cannot tell apart.
public final class CPUAccount: Sendable {
    private let nanoseconds = Atomic<Int64>(0)

    public init() {}

    public var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Runs `body` on this thread, charging this thread's CPU time during it — and that
    /// of the threads `parallelFor` takes inside it — to this account.
    public func charge<T>(_ body: () throws -> T) rethrows -> T {
        let previous = Self.current
        Self.setCurrent(self)
        let start = Self.threadCPUNanoseconds()
        defer {
            nanoseconds.add(Self.threadCPUNanoseconds() - start, ordering: .relaxed)
            Self.setCurrent(previous)
        }
        return try body()
    }

    /// The account the calling thread's CPU is being charged to, if any.
    public static var current: CPUAccount? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<CPUAccount>.fromOpaque(raw).takeUnretainedValue()
    }

    /// CPU time of the calling thread so far.
    public static func threadCPUNanoseconds() -> Int64 {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// The thread-local slot. `charge` keeps the account alive while it is set, so the
    /// slot holds it unretained.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private static func setCurrent(_ account: CPUAccount?) {
        pthread_setspecific(key, account.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
    }
}
