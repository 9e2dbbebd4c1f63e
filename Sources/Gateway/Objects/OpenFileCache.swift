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
    /// Leases kept at most (`ConnectionLimits.cachedFilesPerLoop`): enough for a viewer's
    /// working set, within the descriptors set aside for it.
    let capacity: Int
    /// Key bytes kept at most: misses are cached too, and keys are the client's to choose
    /// (up to `RequestPath.maxPathBytes` each), so entries alone do not bound memory.
    let keyBytesCapacity: Int
    private var keyBytes = 0
    private var leases: [Key: OpenFileLease] = [:]
    /// When full, expired leases are swept at most this often (a working set larger than
    /// the cache then costs an open per request, never a sweep per request).
    private var nextSweep = ContinuousClock.now

    init(lifetime: Duration, capacity: Int, keyBytesCapacity: Int = 1 << 20) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.keyBytesCapacity = keyBytesCapacity
    }

    /// Key bytes the cache holds.
    var cachedKeyBytes: Int { keyBytes }

    private static func cost(_ key: Key) -> Int { key.root.utf8.count + key.key.utf8.count }

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
            keyBytes -= Self.cost(cacheKey)
            cached.release()
        }
        let lease = OpenFileLease(file: try source.openFile(key), expires: now + lifetime)
        lease.beginTransfer()
        if capacity > 0, hasRoom(for: cacheKey) || (sweep(now) && hasRoom(for: cacheKey)) {
            leases[cacheKey] = lease
            keyBytes += Self.cost(cacheKey)
        } else {
            lease.release()
        }
        return lease
    }

    private func hasRoom(for key: Key) -> Bool {
        leases.count < capacity && keyBytes + Self.cost(key) <= keyBytesCapacity
    }

    /// Drops expired leases; whether any went.
    private func sweep(_ now: ContinuousClock.Instant) -> Bool {
        guard now >= nextSweep else { return false }
        nextSweep = now + lifetime / 4
        let before = leases.count
        leases = leases.filter { key, lease in
            if lease.expires > now { return true }
            keyBytes -= Self.cost(key)
            lease.release()
            return false
        }
        return leases.count < before
    }
}
