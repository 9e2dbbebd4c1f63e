import Foundation
import Storage
import ZarrCore

/// A level's record of the plain chunks that have landed, so `--resume` can keep a chunk
/// by its size instead of decoding it: an append-only log `.tessera-manifest` in the
/// level's folder (hidden bookkeeping: never served or listed by the gateway) of
/// "key size" lines, appended with O_APPEND after each chunk is renamed into place — a
/// kill leaves at most a torn last line, which is ignored (its chunk is redone). Size 0
/// records a chunk that is all fill value and so is not stored. Local folders only: on
/// other stores (no append) chunks are still checked by decoding them. Removed once the
/// image is complete.
final class ObjectManifest: Sendable {
    static let name = StoreKey.bookkeepingPrefix + "-manifest"
    private let fd: Int32
    private let path: String

    /// Nil when the store is not a local folder.
    init?(store: any Store, levelPath: String) throws {
        guard let file = store as? FileStore else { return nil }
        path = file.root.path + "/" + joinKey(levelPath, Self.name)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError.failed(key: store.describe(joinKey(levelPath, Self.name)), reason: "cannot open: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// `key` (the store key) has landed with `size` bytes (0: all fill, not stored).
    func record(_ key: String, size: Int) throws {
        let line = Array("\(key) \(size)\n".utf8)
        let n = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == line.count else {
            throw StorageError.failed(key: path, reason: "cannot append: \(String(cString: strerror(errno)))")
        }
    }

    /// Key → size of every whole line, nil when there is no manifest (another store, an
    /// older Tessera, or nothing landed yet). A later line for a key wins.
    static func read(store: any Store, levelPath: String) throws -> [String: Int]? {
        guard store is FileStore, let bytes = try store.get(joinKey(levelPath, name)) else { return nil }
        var sizes = [String: Int]()
        // Only newline-terminated lines: the last one may be torn by a kill.
        let whole = bytes.lastIndex(of: UInt8(ascii: "\n")).map { bytes[...$0] } ?? []
        for line in whole.split(separator: UInt8(ascii: "\n")) {
            guard let space = line.lastIndex(of: UInt8(ascii: " ")),
                  let size = Int(String(decoding: line[(space + 1)...], as: UTF8.self)), size >= 0 else { continue }
            sizes[String(decoding: line[..<space], as: UTF8.self)] = size
        }
        return sizes
    }

    /// The image is complete: the level's manifest is no longer needed.
    static func remove(store: any Store, levelPath: String) throws {
        guard store is FileStore else { return }
        try store.delete(joinKey(levelPath, name))
    }
}
