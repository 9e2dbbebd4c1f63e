import Foundation
import Storage
import Synchronization
import ZarrCore

/// A level's record of the plain chunks that have landed, so `--resume` can keep a chunk
/// by its size instead of decoding it. Written through the Store API alone, so it works
/// the same on a local folder and on S3: batches of "key size\n" lines, each stored whole
/// with `store.set` as `<level>/.tessera-manifest/<run>-<n>` (hidden bookkeeping: never
/// served or listed by the gateway). `run` is this run's start time and pid, zero-padded
/// so names sort in the order they were written; `n` numbers the run's batches. A batch is
/// written when it reaches `batchLines` lines or a second has passed since the last one,
/// and at the end; a kill loses only the unwritten batch, whose chunks are
/// then redone — never wrongly kept. Size 0 records a chunk that is all fill value and so
/// is not stored. Removed once the image is complete.
final class ObjectManifest: Sendable {
    static let name = StoreKey.manifestFolder
    static let batchLines = 4096
    static let batchInterval: Duration = .seconds(1)

    private struct Pending {
        var lines = [UInt8]()
        var count = 0
        var next = 0
        var lastWrite = ContinuousClock.now
    }

    private let store: any Store
    private let folder: String
    private let run: String
    private let pending = Mutex(Pending())

    init(store: any Store, levelPath: String) {
        self.store = store
        folder = Self.folder(levelPath)
        let millis = Int(Date().timeIntervalSince1970 * 1000)
        run = Self.padded(millis, 16) + "-" + Self.padded(Int(getpid()), 10)
        scheduleFlush()
    }

    /// Lines recorded and then followed by none (a slow source, the level's last chunks)
    /// are written a second later all the same, while this manifest is in use. A failed
    /// write only means those chunks are redone on resume.
    private func scheduleFlush() {
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + 1) { [weak self] in
            guard let self else { return }
            try? self.flush(dueOnly: true)
            self.scheduleFlush()
        }
    }

    /// Whatever was recorded and not yet written is written now (best effort: a lost
    /// batch only means its chunks are redone).
    deinit { try? flush() }

    /// `key` (the store key) has landed with `size` bytes (0: all fill, not stored).
    func record(_ key: String, size: Int) throws {
        let batch: (key: String, bytes: [UInt8])? = pending.withLock { p in
            p.lines += Array("\(key) \(size)\n".utf8)
            p.count += 1
            guard p.count >= Self.batchLines || ContinuousClock.now - p.lastWrite >= Self.batchInterval else { return nil }
            return take(&p)
        }
        if let batch { try store.set(batch.key, batch.bytes) }
    }

    /// Writes the recorded lines not yet written (the level is done, or the run ends); with
    /// `dueOnly`, only when a second has passed since the last batch.
    func flush(dueOnly: Bool = false) throws {
        let batch = pending.withLock { p in
            p.count > 0 && (!dueOnly || ContinuousClock.now - p.lastWrite >= Self.batchInterval) ? take(&p) : nil
        }
        if let batch { try store.set(batch.key, batch.bytes) }
    }

    /// Empties the pending batch, naming it; called under the lock so batch numbers
    /// follow the order the lines were recorded in.
    private func take(_ p: inout Pending) -> (key: String, bytes: [UInt8]) {
        let key = joinKey(folder, run + "-" + Self.padded(p.next, 8))
        let bytes = p.lines
        p.lines = []
        p.count = 0
        p.next += 1
        p.lastWrite = .now
        return (key, bytes)
    }

    /// Key → size from every batch of the level, read in name order (a later line for a
    /// key wins); nil when there is none (another Tessera, a sharded level, or nothing
    /// landed yet), which means stored chunks are checked by decoding them.
    static func read(store: any Store, levelPath: String) throws -> [String: Int]? {
        var names = [String]()
        try store.listPages(prefix: folder(levelPath) + "/") { page in
            names += page.map(\.key).filter { isBatchKey($0) }
        }
        guard !names.isEmpty else { return nil }
        var sizes = [String: Int]()
        for key in names.sorted() {
            guard let bytes = try store.get(key) else { continue }  // removed meanwhile
            // Batches are stored whole; a line that is not "key size" is ignored all the same.
            let whole = bytes.lastIndex(of: UInt8(ascii: "\n")).map { bytes[...$0] } ?? []
            for line in whole.split(separator: UInt8(ascii: "\n")) {
                guard let space = line.lastIndex(of: UInt8(ascii: " ")),
                      let size = Int(String(decoding: line[(space + 1)...], as: UTF8.self)), size >= 0 else { continue }
                sizes[String(decoding: line[..<space], as: UTF8.self)] = size
            }
        }
        return sizes
    }

    /// The image is complete: the level's batches are no longer needed.
    static func remove(store: any Store, levelPath: String) throws {
        var names = [String]()
        try store.listPages(prefix: folder(levelPath) + "/") { page in
            names += page.map(\.key).filter { isBatchKey($0) }
        }
        for key in names { try store.delete(key) }
    }

    /// Deletes the single append-only log file an older Tessera kept at the folder's key
    /// (a local folder cannot hold both), so this run's batches can be written; its chunks
    /// are then checked by decoding them. Nothing when there is none or it is a folder.
    static func removeOlderLog(store: any Store, levelPath: String) throws {
        let key = folder(levelPath)
        if try store.size(key) != nil { try store.delete(key) }
    }

    /// Whether `key` names a manifest batch (`…/.tessera-manifest/<digits and dashes>`),
    /// so that only what Tessera wrote there is read or deleted.
    static func isBatchKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[parts.count - 2] == name, let last = parts.last, !last.isEmpty else { return false }
        return last.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "-") }
    }

    private static func folder(_ levelPath: String) -> String { joinKey(levelPath, name) }

    private static func padded(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
