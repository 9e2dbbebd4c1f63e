import Foundation
import NGFF
import NIOPosix
import Render
import Storage
import Synchronization
import ZarrCore

/// One image the browse page lists: where it is and what a card shows.
struct BrowseImage: Sendable {
    let root: String
    /// The image group's key in the root ("" when the root is the image).
    let path: String
    let name: String
    /// "0.4" (Zarr v2) or "0.5" (Zarr v3).
    let version: String
    var axes = ""
    var shape = [Int]()
    var dataType = ""
    var levels = 0
    var channels = [String]()
    /// The first omero channel's window: the viewer link's contrast range.
    var window: (start: Double, end: Double)?
    /// Why the card has no metadata (the image could not be opened for rendering).
    var problem: String?

    /// Words a name search looks in: path, name, channel labels.
    var searchText: String { ([path, name] + channels).joined(separator: "\n").lowercased() }
}

/// The images of each root, found by a bounded walk of its hierarchy (`HierarchyWalk`:
/// node documents only, never a chunk), kept for `lifetime` per root. Past the walk's
/// limits the page shows what was found with a note that listing stopped.
final class BrowseIndex: Sendable {
    struct RootImages: Sendable {
        let images: [BrowseImage]
        /// Set when the walk stopped before the end (its reason).
        let stopped: String?
        let made: ContinuousClock.Instant
    }

    typealias Walker = @Sendable (_ root: String, _ store: any Store, _ limits: WalkLimits) -> RootImages

    let lifetime: Duration
    let limits: WalkLimits
    /// Most images listed per root; the walk stops there.
    static let maxImages = 2000
    private let cache = Mutex<[String: RootImages]>([:])
    /// How a root is walked: `walk` (tests count and slow it down).
    private let walker: Walker

    init(limits: WalkLimits, lifetime: Duration = .seconds(30), walker: @escaping Walker = BrowseIndex.walk) {
        self.limits = limits
        self.lifetime = lifetime
        self.walker = walker
    }

    /// Walks in flight, one per root.
    private let flights = SingleFlight<RootImages>()

    /// The root's images, from the cache when fresh; else from the walk in flight for the
    /// root, or a new one (on NIO's blocking pool): a burst of first requests walks once.
    func images(root: String, store: any Store) async throws -> RootImages {
        if let kept = fresh(root) { return kept }
        let limits = self.limits, walker = self.walker
        return try await flights.run(root) { [self] in
            // A walk that finished between the look above and this flight filled the cache.
            if let kept = fresh(root) { return kept }
            let found = try await NIOThreadPool.singleton.runIfActive { walker(root, store, limits) }
            cache.withLock { $0[root] = found }
            return found
        }.value
    }

    private func fresh(_ root: String) -> RootImages? {
        guard let kept = cache.withLock({ $0[root] }), ContinuousClock.now - kept.made < lifetime else { return nil }
        return kept
    }

    static func walk(root: String, store: any Store, limits: WalkLimits) -> RootImages {
        let walk = HierarchyWalk(store: store, group: "", limits: limits)
        var found = [(path: String, version: String, name: String?)]()
        var stopped: String?
        /// Whether the folder at `path` is an image (recorded) or a node not to descend into.
        func look(_ path: String, _ objects: [StoreEntry]) throws -> Bool {
            let names = Set(objects.map { String($0.key.split(separator: "/").last ?? "") })
            var attributes: [String: JSONValue]?
            var version = "0.4"
            if names.contains(ZarrKeys.v3), let doc = try walk.document(path, ZarrKeys.v3, listed: objects) {
                guard doc["node_type"]?.stringValue == "group" else { return false }
                attributes = doc["attributes"]?.objectValue
                version = "0.5"
            } else if names.contains(ZarrKeys.array) {
                return false
            } else if names.contains(ZarrKeys.attributes) {
                attributes = try walk.document(path, ZarrKeys.attributes, listed: objects)?.objectValue
            }
            if let ngff = attributes.flatMap(NGFFAttributes.ngff),
               ngff["multiscales"] != nil || ngff["bioformats2raw.layout"] != nil {
                let name = ngff["multiscales"]?.arrayValue?.first?["name"]?.stringValue
                found.append((path, version, name))
                if found.count >= maxImages { throw TooManyImages(count: maxImages) }
                return false
            }
            return true
        }
        do {
            let top = try walk.list("")
            let rootObjects = try store.entries(named: [ZarrKeys.v3, ZarrKeys.array, ZarrKeys.attributes], in: "")
            if try look("", rootObjects) {
                try walk.walk(top.folders, names: [ZarrKeys.v3, ZarrKeys.array, ZarrKeys.attributes], visit: look)
            }
        } catch {
            stopped = pageText(error, root: root, path: "")
        }
        let images = found.map { item -> BrowseImage in
            let last = item.path.split(separator: "/").last.map(String.init) ?? root
            var image = BrowseImage(root: root, path: item.path, name: item.name.flatMap { $0.isEmpty ? nil : $0 } ?? last,
                                    version: item.version)
            describe(&image, root: root, store: store)
            return image
        }
        return RootImages(images: images, stopped: stopped, made: .now)
    }

    /// A card's metadata, from the same reading the renderer does (metadata only).
    static func describe(_ image: inout BrowseImage, root: String, store: any Store) {
        do {
            let opened = try RenderImage.open(store: store, path: image.path,
                                              name: RenderImage.publicName(root: root, path: image.path))
            var letters = Array(repeating: "?", count: opened.axes.rank)
            for (letter, index) in [("t", opened.axes.t), ("c", opened.axes.c), ("z", opened.axes.z),
                                    ("y", Optional(opened.axes.y)), ("x", Optional(opened.axes.x))] {
                if let index, index < letters.count { letters[index] = letter }
            }
            image.axes = letters.joined()
            image.shape = opened.levels.first?.shape ?? []
            image.dataType = opened.dataType.rawValue
            image.levels = opened.levels.count
            image.window = opened.omero?.channels.first?.window
            image.channels = (opened.omero?.channels ?? []).enumerated().map { $1.label ?? "channel \($0)" }
        } catch {
            image.problem = pageText(error, root: root, path: image.path)
        }
    }

    /// What the page says of a failure. The renderer's refusals and the walk's cap name
    /// the image by its public name; any other error (storage, a document that does not
    /// parse) may name a path on the server's disk, so the page gets a request id and the
    /// server's log the detail, as the object routes' 502s do.
    static func pageText(_ error: any Error, root: String, path: String) -> String {
        if error is RenderError || error is TooManyImages { return "\(error)" }
        let id = problems.record("browse \(RenderImage.publicName(root: root, path: path)): \(error)")
        return "cannot be read (storage error; request id \(id))"
    }

    /// Where `pageText` logs what it does not show.
    private static let problems = ServerErrors()
}

/// The walk found `BrowseIndex.maxImages` images and stopped.
struct TooManyImages: Error, CustomStringConvertible {
    let count: Int
    var description: String { "more than \(count) images" }
}
