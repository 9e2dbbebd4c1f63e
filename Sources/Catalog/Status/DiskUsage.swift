#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file system holding a local root, as `statvfs` reports it (the numbers `df` shows):
/// `total` = blocks × fragment size, `free` = blocks available to unprivileged users,
/// `used` = blocks not free (the reserve for root counts as neither used nor available,
/// so used + free can be below total).
public struct DiskUsage: Sendable, Equatable, Codable {
    public var totalBytes: Int64
    public var freeBytes: Int64
    public var usedBytes: Int64

    public init(totalBytes: Int64, freeBytes: Int64, usedBytes: Int64) {
        self.totalBytes = totalBytes; self.freeBytes = freeBytes; self.usedBytes = usedBytes
    }

    /// nil when `path` cannot be examined (missing, unreadable): the status shows the root
    /// without disk numbers rather than failing.
    public static func of(path: String) -> DiskUsage? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        let unit = UInt64(s.f_frsize > 0 ? s.f_frsize : s.f_bsize)
        return DiskUsage(totalBytes: bytes(UInt64(s.f_blocks), unit), freeBytes: bytes(UInt64(s.f_bavail), unit),
                         usedBytes: bytes(UInt64(s.f_blocks) &- min(UInt64(s.f_blocks), UInt64(s.f_bfree)), unit))
    }

    private static func bytes(_ blocks: UInt64, _ unit: UInt64) -> Int64 {
        let (product, overflow) = blocks.multipliedReportingOverflow(by: unit)
        return overflow || product > UInt64(Int64.max) ? Int64.max : Int64(product)
    }
}
