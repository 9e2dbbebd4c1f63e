import Render
import Storage
import Synchronization

/// Opened images (their parsed metadata) kept between picture requests, so a render does
/// not parse the image's group and level documents again each time: that parse was about
/// an eighth of a 1024² JPEG render's CPU (Docs/bench.md, "Render").
///
/// An entry is used only while the versions of its documents (`SourceVersions`, which
/// every request computes anyway for its tag) are what they were. An image is kept only
/// once it was parsed between two identical version checks: the previous request's
/// versions of the same documents taken before the parse, this one's after. A document
/// replaced while it was read therefore never leaves its old content behind a new
/// version. Stores that give no version beyond a size (a memory store) are never kept.
/// At most `maximumEntries` images; when full, all are dropped (keys come from requests).
final class OpenedImages: Sendable {
    struct Opened: Sendable {
        let image: RenderImage
        let levelKeys: [String]
        /// The documents' versions now (`SourceVersions.lines`).
        let versions: (text: String, newest: Int?)
    }

    private struct Entry {
        let documents: [String]
        let versions: String
        /// nil until a parse was seen between two identical version checks.
        let image: RenderImage?
    }

    private let entries = Mutex<[String: Entry]>([:])
    let maximumEntries: Int

    init(maximumEntries: Int) { self.maximumEntries = maximumEntries }

    /// Images held ready (tests).
    var readyCount: Int { entries.withLock { $0.values.count { $0.image != nil } } }

    /// The image at `path` of the root `rootName`: kept, or opened now.
    func open(rootName: String, store: any Store, path: String) throws -> Opened {
        let key = rootName + "\n" + path
        var before: (documents: [String], versions: String)?
        if let entry = entries.withLock({ $0[key] }) {
            let now = try SourceVersions.lines(store: store, documents: entry.documents)
            if let image = entry.image, now.text == entry.versions {
                return Opened(image: image, levelKeys: Self.levelKeys(image), versions: now)
            }
            before = (entry.documents, now.text)
        }
        let fresh = try Self.openFresh(rootName: rootName, store: store, path: path)
        let documents = SourceVersions.documents(image: path, levelKeys: fresh.levelKeys)
        let confirmed = before.map { $0.documents == documents && $0.versions == fresh.versions.text } ?? false
        let keep = Self.identifiesVersions(fresh.versions.text)
        entries.withLock { entries in
            if entries[key] == nil, entries.count >= maximumEntries { entries.removeAll() }
            entries[key] = keep ? Entry(documents: documents, versions: fresh.versions.text, image: confirmed ? fresh.image : nil) : nil
        }
        return fresh
    }

    /// The image parsed now, with its documents' versions read after the parse; what
    /// `open` keeps, and what a caller without the table (tests) uses alone.
    static func openFresh(rootName: String, store: any Store, path: String) throws -> Opened {
        let image = try RenderImage.open(store: store, path: path, name: RenderImage.publicName(root: rootName, path: path))
        let levelKeys = Self.levelKeys(image)
        let versions = try SourceVersions.lines(store: store, documents: SourceVersions.documents(image: path, levelKeys: levelKeys))
        return Opened(image: image, levelKeys: levelKeys, versions: versions)
    }

    static func levelKeys(_ image: RenderImage) -> [String] {
        image.levels.compactMap { ($0.reader as? ZarrLevelReader)?.key }
    }

    /// Whether every document line carries a version (an etag, or a file's device, inode
    /// and modification time), not a size alone (`key size -`), which a rewrite of the
    /// same length would not change.
    static func identifiesVersions(_ text: String) -> Bool {
        !text.split(separator: "\n").contains { $0.hasSuffix(" -") }
    }
}
