import Catalog
import Foundation

/// What one `lstat` of a watched file says: the stability rule compares these between scans.
public struct FileObservation: Sendable, Equatable {
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64
    public var inode: Int64

    public init(size: Int64, mtimeNanoseconds: Int64, ctimeNanoseconds: Int64, inode: Int64) {
        self.size = size; self.mtimeNanoseconds = mtimeNanoseconds; self.ctimeNanoseconds = ctimeNanoseconds; self.inode = inode
    }

    /// `lstat` of a path: nil when it is gone, not a regular file, or a symbolic link.
    public static func of(path: String) -> FileObservation? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileObservation(stat: st)
    }

    init(stat st: stat) {
        size = Int64(st.st_size)
        mtimeNanoseconds = Self.nanoseconds(st.st_mtim)
        ctimeNanoseconds = Self.nanoseconds(st.st_ctim)
        inode = Int64(bitPattern: UInt64(st.st_ino))
    }

    static func nanoseconds(_ t: timespec) -> Int64 {
        // Saturating: a file dated absurdly far away must not trap.
        let (s, o1) = Int64(t.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        let (n, o2) = s.addingReportingOverflow(Int64(t.tv_nsec))
        return o1 || o2 ? (t.tv_sec < 0 ? .min : .max) : n
    }

    /// The identity the ingest ledger keys on (ctime is not part of it: a `chmod` alone must
    /// not make a converted file new, though it does restart the stability wait).
    public var identity: FileIdentity { FileIdentity(size: size, mtimeNanoseconds: mtimeNanoseconds, inode: inode) }
}
