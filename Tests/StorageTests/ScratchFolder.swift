import Foundation
import Storage

/// A fresh folder under the system's temporary folder with a FileStore on it, removed
/// with everything in it when the value goes away.
final class ScratchFolder {
    let path = NSTemporaryDirectory() + "tessera-storage-test-\(UUID().uuidString)"
    lazy var store = FileStore(path: path)
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
