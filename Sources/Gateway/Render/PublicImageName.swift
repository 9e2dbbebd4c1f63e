import Render
import Storage

extension RenderImage {
    /// How the gateway names a root's image in what it answers: `root/path`, never the
    /// store's description (for a folder, a path on the server's disk).
    static func publicName(root: String, path: String) -> String { joinKey(root, path) }
}
