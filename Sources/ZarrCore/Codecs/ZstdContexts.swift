import CZstd
import Synchronization

/// Zstandard compression contexts, reused across chunks instead of made per call.
///
/// A context holds zstd's working tables; `ZSTD_compress` (what c-blosc 1 calls for every
/// 32–256 KiB block) allocates and clears them again on every call, which costs 15–20 % of
/// the compression time of a slide's 8-bit chunks at level 1. Every call that takes a
/// context here sets all its parameters first (`ZSTD_compressCCtx` resets them from the
/// level; `ZstdCodec` resets the session and parameters), so its output is the same bytes
/// a fresh context gives. The pool holds at most as many contexts as threads ever
/// compressed at once; each keeps the tables of its largest use.
final class ZstdContexts: Sendable {
    static let shared = ZstdContexts()

    /// Idle contexts (`ZSTD_CCtx*`), as addresses so the list is Sendable; each is used
    /// by one thread at a time, between `take` and `give`.
    private let idle = Mutex<[UInt]>([])

    /// Runs `body` with a context of its own (nil when zstd cannot allocate one).
    func withContext<R>(_ body: (OpaquePointer?) throws -> R) rethrows -> R {
        let taken = idle.withLock { $0.popLast() }
        let context = taken.flatMap { OpaquePointer(bitPattern: $0) } ?? ZSTD_createCCtx()
        defer {
            if let context { idle.withLock { $0.append(UInt(bitPattern: Int(bitPattern: context))) } }
        }
        return try body(context)
    }
}
