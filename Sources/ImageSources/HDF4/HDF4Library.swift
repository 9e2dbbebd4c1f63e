import CHDF4
import Foundation

/// The HDF4 library is not thread-safe: every call into it, from any image or opener,
/// goes through this one process-wide lock. It is recursive so that a handle released
/// while the lock is held (its `deinit` also locks) cannot deadlock.
enum HDF4Library {
    private static let lock = NSRecursiveLock()

    static func serialized<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Most values an attribute may hold before it is noted instead of read (the
    /// count comes from the file, so it is bounded before allocating).
    static let maxAttributeValues = 1 << 20
}

/// An open HDF4 file (`SDstart`), ended when the last image of it goes away.
final class HDF4File: @unchecked Sendable {
    let path: String
    let id: Int32

    init(path: String) throws {
        self.path = path
        let id = HDF4Library.serialized { SDstart(path, Int32(DFACC_READ)) }
        guard id != FAIL else { throw SourceError(path, "is not a readable HDF4 file (damaged or truncated?)") }
        self.id = id
    }

    deinit { _ = HDF4Library.serialized { SDend(id) } }
}

/// One selected SDS (`SDselect`), its access ended when its image goes away. Holds the
/// file so the file outlives it.
final class HDF4DatasetHandle: @unchecked Sendable {
    let file: HDF4File
    let id: Int32

    init(file: HDF4File, index: Int32, name: String) throws {
        self.file = file
        let id = HDF4Library.serialized { SDselect(file.id, index) }
        guard id != FAIL else { throw SourceError(file.path, "cannot open SDS '\(name)' (damaged file?)") }
        self.id = id
    }

    deinit { _ = HDF4Library.serialized { SDendaccess(id) } }
}

extension String {
    /// A NUL-terminated name the library wrote into `buffer` (never reads past its end).
    init(hdf4Name buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
