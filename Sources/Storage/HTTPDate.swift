import Foundation

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form HTTP senders may use:
/// the gateway's Last-Modified and conditional headers, and S3's Last-Modified. Formatted
/// and parsed with the C library rather than a DateFormatter: it runs on every file response.
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

extension ObjectInfo {
    /// `lastModified` as seconds since the epoch, when the store sent a valid HTTP date.
    public var lastModifiedSeconds: Int? { lastModified.flatMap { HTTPDate.parse($0[...]) } }
}
