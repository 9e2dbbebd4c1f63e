import NIOConcurrencyHelpers
import Storage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The gateway's clock in HTTP's and the access log's forms (`HTTPDate` itself, the
/// date grammar, is Storage's: S3 answers carry the same dates).
extension HTTPDate {
    /// A pthread lock: Synchronization.Mutex makes a gettid system call per lock.
    private static let current = NIOLockedValueBox<(second: Int, text: String)>((-1, ""))

    /// The `Date` header value for now, formatted at most once a second.
    static func now() -> String {
        let second = time(nil)
        return current.withLockedValue { cache in
            if cache.second != second { cache = (second, format(second)) }
            return cache.text
        }
    }

    /// `2026-11-23T10:00:00Z`, for log lines.
    static func iso8601(_ seconds: Int) -> String {
        var t = time_t(seconds), tm = tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))Z"
    }
}
