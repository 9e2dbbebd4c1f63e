import Foundation
import Storage
import ZarrCore

/// A FileStore in a fresh folder that is deleted when the object goes away, so test runs
/// leave nothing behind in /tmp.
final class TemporaryFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-test-\(UUID())")
    lazy var store = FileStore(root: url)
    deinit { try? FileManager.default.removeItem(at: url) }
}
