#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// What the fast path found at a key: an open file, or nothing (a 404), as of `expires`
/// minus the cache's lifetime. Answers share one descriptor (every read is positional:
/// pread, sendfile with an offset); it closes once the cache has let go of the lease and
/// no transfer still reads from it.
final class OpenFileLease {
    let file: OpenFile?
    let expires: ContinuousClock.Instant
    private var transfers = 0
    private var released = false
    private var closed = false

    init(file: OpenFile?, expires: ContinuousClock.Instant) {
        self.file = file
        self.expires = expires
    }

    /// Another answer reads from the file; each ends with `endTransfer`.
    fileprivate func beginTransfer() { transfers += 1 }

    func endTransfer() {
        transfers -= 1
        closeIfUnused()
    }

    /// The cache no longer hands this lease out.
    func release() {
        released = true
        closeIfUnused()
    }

    /// The descriptor as NIO's file handle, for `FileRegion`s: one per lease rather than
    /// one per answer, made on first use. It borrows the descriptor, which the lease closes.
    var fileHandle: NIOFileHandle? {
        if borrowingHandle == nil, let fd = file?.fd {
            borrowingHandle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        }
        return borrowingHandle
    }
    private var borrowingHandle: NIOFileHandle?

    private func closeIfUnused() {
        guard released, transfers == 0, !closed, let fd = file?.fd else { return }
        closed = true
        _ = try? borrowingHandle?.takeDescriptorOwnership()
        close(fd)
    }
}

/// Open descriptors (and misses) by root and key, kept for a short time, so a file a
/// viewer reads again and again is opened and stat'ed once per lifetime rather than per
/// request — nginx's `open_file_cache`, which profiles showed as the largest cost left
/// after HTTP handling: open, fstat and close were a fifth of the CPU per chunk.
///
/// Staleness is bounded by the lifetime (1 s by default): a file replaced by rename is
/// seen within it, like a new file where there was a 404. One cache per event loop, used
/// only on that loop, so it needs no lock.
final class OpenFileCache {
    private struct Key: Hashable {
        let root: String
        let key: String
    }

    let lifetime: Duration
    let capacity: Int
    /// Leases per event loop: enough for a viewer's working set, and within the
    /// descriptor limit `GatewayServer` asks for (raised to the hard limit at start).
    static var capacityPerLoop: Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let loops = max(1, System.coreCount)
        // Half the descriptors for cached files, the rest for connections and the like.
        return max(0, min(4096, Int(min(limit.rlim_cur, 1 << 20)) / 2 / loops))
    }
    private var leases: [Key: OpenFileLease] = [:]
    /// When full, expired leases are swept at most this often (a working set larger than
    /// the cache then costs an open per request, never a sweep per request).
    private var nextSweep = ContinuousClock.now

    init(lifetime: Duration, capacity: Int) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    deinit {
        for lease in leases.values { lease.release() }
    }

    /// The lease for `key` in `source` with a transfer begun on it (the caller ends it):
    /// the cached one while fresh, else a new open, cached when there is room (otherwise
    /// it closes as soon as that transfer ends). Throws what opening throws.
    func lease(_ source: FileObjectSource, root: String, key: String, now: ContinuousClock.Instant) throws -> OpenFileLease {
        let cacheKey = Key(root: root, key: key)
        if let cached = leases[cacheKey] {
            if cached.expires > now {
                cached.beginTransfer()
                return cached
            }
            leases[cacheKey] = nil
            cached.release()
        }
        let lease = OpenFileLease(file: try source.openFile(key), expires: now + lifetime)
        lease.beginTransfer()
        if capacity > 0, leases.count < capacity || sweep(now) {
            leases[cacheKey] = lease
        } else {
            lease.release()
        }
        return lease
    }

    /// Drops expired leases; whether there is room now.
    private func sweep(_ now: ContinuousClock.Instant) -> Bool {
        guard now >= nextSweep else { return false }
        nextSweep = now + lifetime / 4
        leases = leases.filter { _, lease in
            if lease.expires > now { return true }
            lease.release()
            return false
        }
        return leases.count < capacity
    }
}
