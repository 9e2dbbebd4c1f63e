import Catalog
import Storage

/// One caller's view of one root through the catalogue: what a listing of a folder may
/// show and whether a folder's consolidated metadata would reveal a dataset the caller may
/// not see. Made per request from the current `DatasetAccessIndex`.
struct DatasetScope: Sendable {
    let index: DatasetAccessIndex
    let root: String
    let mode: RootConfiguration.DatasetsMode
    let viewer: Viewer

    /// `folder` ("" for the root) holds a dataset the caller may not see, or one not ready.
    func hidesBelow(_ folder: String) -> Bool { index.hidesBelow(folder, root: root, viewer: viewer) }

    /// `key` is the root or a folder above at least one dataset.
    func isAboveDatasets(_ key: String) -> Bool { key.isEmpty || index.datasetsBelow(key, root: root, mode: mode, viewer: viewer).any }

    /// The listing of `folder` without what the caller may not see.
    func filter(_ listing: FolderListing, folder: String) -> FolderListing {
        FolderListing(objects: listing.objects.filter { keepsListed($0.key, in: folder, isFolder: false) },
                      folders: listing.folders.filter { keepsListed($0, in: folder, isFolder: true) })
    }

    /// Whether the child `name` of `folder` is listed: an object when the caller could read
    /// it; a folder inside a dataset when the dataset is visible; a folder above datasets when
    /// one of them is visible (folders holding only hidden datasets are left out); any other
    /// folder only in an `open` root.
    func keepsListed(_ name: String, in folder: String, isFolder: Bool) -> Bool {
        let child = folder.isEmpty ? name : folder + "/" + name
        let inside = index.containing(child, root: root)
        if !inside.isEmpty || !isFolder {
            switch index.decide(root: root, key: child, mode: mode, viewer: viewer) {
            case .open, .restricted: return true
            case .hidden, .missing: return false
            }
        }
        let below = index.datasetsBelow(child, root: root, mode: mode, viewer: viewer)
        return below.any ? below.visible : mode == .open
    }
}
