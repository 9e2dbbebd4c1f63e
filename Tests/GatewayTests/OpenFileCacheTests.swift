import Foundation
import Storage
import Testing
import ZarrCore
@testable import Gateway

@Suite final class OpenFileCacheTests {
    let folder: String
    let source: FileObjectSource
    deinit { try? FileManager.default.removeItem(atPath: folder) }

    init() throws {
        folder = NSTemporaryDirectory() + "tessera-filecache-\(UUID().uuidString)"
        try FileStore(path: folder).set("a/0", [1, 2, 3])
        source = try FileObjectSource(path: folder)
    }

    private func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

    /// Whether `fd` is open on a file that no longer has a name (the cached file after a
    /// rename replaced it). Its number alone says nothing: once closed, another test running
    /// in parallel may open a file under the same number.
    private func holdsAReplacedFile(_ fd: Int32) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && st.st_nlink == 0
    }

    /// A lease as one answer uses it: checked out, then its transfer ended.
    private func answer(_ cache: OpenFileCache, _ key: String, at now: ContinuousClock.Instant,
                        from source: FileObjectSource? = nil, root: String = "r") throws -> OpenFileLease {
        let lease = try cache.lease(source ?? self.source, root: root, key: key, now: now)
        lease.endTransfer()
        return lease
    }

    @Test func reusesAFileWhileFreshAndSeesReplacementsAfter() throws {
        let cache = OpenFileCache(lifetime: .seconds(1), capacity: 16)
        let t0 = ContinuousClock.now
        let first = try answer(cache, "a/0", at: t0)
        #expect(first.file?.size == 3)
        #expect(try answer(cache, "a/0", at: t0 + .milliseconds(999)) === first)
        // Replaced by rename, as writers do: the cached lease still names the old file ...
        try FileStore(path: folder).set("a/0", [9, 9, 9, 9])
        #expect(try answer(cache, "a/0", at: t0 + .milliseconds(500)).file?.size == 3)
        // ... until it expires; the old descriptor is closed then (its number may already
        // be the new file's).
        let second = try answer(cache, "a/0", at: t0 + .seconds(1))
        #expect(second !== first && second.file?.size == 4)
        #expect(!holdsAReplacedFile(first.file!.fd), "the expired descriptor still holds the replaced file")
    }

    @Test func missesAreCachedForTheLifetimeToo() throws {
        let cache = OpenFileCache(lifetime: .seconds(1), capacity: 16)
        let t0 = ContinuousClock.now
        #expect(try answer(cache, "a/new", at: t0).file == nil)
        try FileStore(path: folder).set("a/new", [5])
        #expect(try answer(cache, "a/new", at: t0 + .milliseconds(900)).file == nil)
        #expect(try answer(cache, "a/new", at: t0 + .seconds(1)).file?.size == 1)
    }

    @Test func aDescriptorOutlivesTheCacheWhileATransferReadsIt() throws {
        let cache = OpenFileCache(lifetime: .seconds(1), capacity: 16)
        let t0 = ContinuousClock.now
        let lease = try cache.lease(source, root: "r", key: "a/0", now: t0) // a transfer begins
        let fd = lease.file!.fd
        let renewed = try answer(cache, "a/0", at: t0 + .seconds(2)) // expires the first
        #expect(renewed.file!.fd != fd)
        #expect(isOpen(fd), "closed under a transfer still reading it")
        lease.endTransfer()
        #expect(!isOpen(fd))
    }

    /// Every sendfile answer from a lease shares its one NIO file handle, which only
    /// borrows the descriptor: the lease closes it, once, and the handle lets go.
    @Test func theSendfileHandleBorrowsTheLeasesDescriptor() throws {
        let cache = OpenFileCache(lifetime: .seconds(1), capacity: 16)
        let t0 = ContinuousClock.now
        let lease = try cache.lease(source, root: "r", key: "a/0", now: t0)
        let handle = try #require(lease.fileHandle)
        #expect(lease.fileHandle === handle)
        #expect(try handle.withUnsafeFileDescriptor { $0 } == lease.file!.fd)
        _ = try answer(cache, "a/0", at: t0 + .seconds(2)) // expires it
        lease.endTransfer()
        #expect(!isOpen(lease.file!.fd) && !handle.isOpen)
        #expect(try answer(cache, "a/9", at: t0).fileHandle == nil) // a miss has none
    }

    @Test func withoutRoomLeasesCloseWhenTheirAnswerIsDone() throws {
        let cache = OpenFileCache(lifetime: .seconds(1), capacity: 0)
        let t0 = ContinuousClock.now
        let lease = try cache.lease(source, root: "r", key: "a/0", now: t0)
        let fd = lease.file!.fd
        #expect(isOpen(fd), "closed before its answer read it")
        lease.endTransfer()
        #expect(!isOpen(fd))
        #expect(try answer(cache, "a/0", at: t0) !== lease)
    }

    @Test func rootsDoNotShareEntries() throws {
        let other = try FileObjectSource(path: NSTemporaryDirectory())
        let cache = OpenFileCache(lifetime: .seconds(1), capacity: 16)
        let t0 = ContinuousClock.now
        #expect(try answer(cache, "a/0", at: t0).file != nil)
        #expect(try answer(cache, "a/0", at: t0, from: other, root: "s").file == nil)
    }
}
