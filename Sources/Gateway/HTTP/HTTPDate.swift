import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form HTTP senders may use,
/// formatted and parsed with the C library rather than a DateFormatter: it runs on
/// every file response.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(_ seconds: Int) -> String {
        var t = time_t(seconds), tm = tm()
        gmtime_r(&t, &tm)
        // Written byte by byte: every file response carries a Last-Modified.
        return String(unsafeUninitializedCapacity: 29) { out in
            var i = 0
            func put(_ s: String) { for c in s.utf8 { out[i] = c; i += 1 } }
            func two(_ v: Int32) { out[i] = UInt8(48 + v / 10); out[i + 1] = UInt8(48 + v % 10); i += 2 }
            put(days[Int(tm.tm_wday)]); put(", ")
            two(tm.tm_mday); put(" ")
            put(months[Int(tm.tm_mon)]); put(" ")
            let year = tm.tm_year + 1900
            two(year / 100); two(year % 100); put(" ")
            two(tm.tm_hour); put(":"); two(tm.tm_min); put(":"); two(tm.tm_sec); put(" GMT")
            return i
        }
    }

    /// Seconds since the epoch, or nil for anything that is not an IMF-fixdate.
    public static func parse(_ text: Substring) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", days.contains(String(parts[0].dropLast())),
              let day = Int32(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int32(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let h = Int32(clock[0]), let m = Int32(clock[1]), let s = Int32(clock[2]) else { return nil }
        var tm = tm()
        tm.tm_year = year - 1900
        tm.tm_mon = Int32(month)
        tm.tm_mday = day
        tm.tm_hour = h
        tm.tm_min = m
        tm.tm_sec = s
        return Int(timegm(&tm))
    }
}

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
