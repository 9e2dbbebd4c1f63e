import Catalog

/// The catalogue's per-dataset access, arranged for the object routes: for each served root,
/// the datasets under it by their key prefix (`images/a.ome.zarr`). Built off the event loop
/// from an `AccessSnapshot`; a lookup hashes the key's successive prefixes, so it costs
/// O(depth) and is safe on the event loop. Immutable: `DatasetAccessRefresher` swaps in a new
/// one when the catalogue's access version moves.
struct DatasetAccessIndex: Sendable {
    struct Entry: Sendable, Equatable {
        let uid: String
        let rule: DatasetRule
        let ready: Bool
    }

    /// One root's datasets.
    struct RootDatasets: Sendable {
        /// Dataset prefix (key of its group folder, "" for a dataset that is the root) → entry.
        var datasets: [String: Entry] = [:]
        /// Every folder above a dataset ("" for the root) → the datasets below it, for listings
        /// and consolidated metadata of groups above dataset boundaries.
        var below: [String: [Entry]] = [:]
        /// Deepest dataset prefix, in segments: lookups try no longer prefix.
        var maxDepth = 0
        /// Whether some dataset here is not public or not ready: the fast path must then look
        /// each key up (otherwise every key of the root is as open as the root).
        var hasRestricted = false
    }

    let version: Int64
    let roots: [String: RootDatasets]
    /// Where each dataset is served (its root and key prefix), by uid: the API's `url`.
    let served: [String: Served]

    struct Served: Sendable, Equatable {
        let root: String
        let prefix: String
    }

    static let empty = DatasetAccessIndex(version: -1, roots: [:], served: [:])

    /// Matches each entry's location to the served root that contains it (the innermost when
    /// roots nest: a root inside another is served under both names, so both get the entry).
    init(snapshot: AccessSnapshot, roots served: [(name: String, location: String)]) {
        let places = served.map { (name: $0.name, place: NestedRoots.Place($0.location)) }
        var roots = [String: RootDatasets]()
        var served = [String: Served]()
        for entry in snapshot.entries {
            let place = NestedRoots.Place(entry.location)
            for root in places where root.place.contains(place) {
                let segments = place.components.dropFirst(root.place.components.count)
                let prefix = segments.joined(separator: "/")
                let value = Entry(uid: entry.uid, rule: entry.rule, ready: entry.status == .ready)
                // The root the writer named, else the first that holds it.
                if served[entry.uid] == nil || entry.root == root.name { served[entry.uid] = Served(root: root.name, prefix: prefix) }
                var datasets = roots[root.name] ?? RootDatasets()
                datasets.datasets[prefix] = value
                datasets.maxDepth = max(datasets.maxDepth, segments.count)
                if !value.rule.isPublic || !value.ready { datasets.hasRestricted = true }
                var folder = ""
                datasets.below[folder, default: []].append(value)
                for segment in segments.dropLast() {
                    folder = folder.isEmpty ? String(segment) : folder + "/" + segment
                    datasets.below[folder, default: []].append(value)
                }
                roots[root.name] = datasets
            }
        }
        self.version = snapshot.version
        self.roots = roots
        self.served = served
    }

    private init(version: Int64, roots: [String: RootDatasets], served: [String: Served]) {
        self.version = version
        self.roots = roots
        self.served = served
    }

    /// The datasets containing `key` in `root`, outermost first (nested datasets each apply).
    func containing(_ key: String, root: String) -> [Entry] {
        guard let datasets = roots[root], !datasets.datasets.isEmpty else { return [] }
        var found = [Entry]()
        if let whole = datasets.datasets[""] { found.append(whole) }
        var depth = 0
        var index = key.startIndex
        while index < key.endIndex, depth < datasets.maxDepth {
            let end = key[index...].firstIndex(of: "/") ?? key.endIndex
            depth += 1
            if let entry = datasets.datasets[String(key[..<end])] { found.append(entry) }
            index = end == key.endIndex ? end : key.index(after: end)
        }
        return found
    }

    /// What the catalogue says of `key` in `root` for `viewer`. `mode` is the root's
    /// `datasets:` setting; the root's own rule was applied before (effective access = root
    /// rule ∧ dataset rule).
    func decide(root: String, key: String, mode: RootConfiguration.DatasetsMode, viewer: Viewer) -> DatasetDecision {
        let entries = containing(key, root: root)
        if entries.isEmpty {
            guard mode == .catalog else { return .open }
            return isGroupMetadataAboveDatasets(key, root: root) ? .open : .missing
        }
        if mode == .catalog && entries.contains(where: { !$0.ready }) { return .missing }
        guard entries.allSatisfy({ $0.rule.allows(viewer) }) else { return .hidden }
        return entries.allSatisfy({ $0.rule.isPublic && $0.ready }) ? .open : .restricted
    }

    /// Whether any dataset below `folder` ("" for the root) is hidden from `viewer` or not
    /// ready: a consolidated document of that folder would then reveal it.
    func hidesBelow(_ folder: String, root: String, viewer: Viewer) -> Bool {
        guard let below = roots[root]?.below[folder] else { return false }
        return below.contains { !$0.ready || !$0.rule.allows(viewer) }
    }

    /// Whether some dataset lies strictly below `folder`, and whether one of them is visible
    /// (a dataset not ready counts only in an `open` root, which serves it by its rule).
    func datasetsBelow(_ folder: String, root: String, mode: RootConfiguration.DatasetsMode, viewer: Viewer) -> (any: Bool, visible: Bool) {
        guard let below = roots[root]?.below[folder], !below.isEmpty else { return (false, false) }
        return (true, below.contains { ($0.ready || mode == .open) && $0.rule.allows(viewer) })
    }

    /// Whether the fast path must leave keys of `root` to the responder.
    func hasRestricted(_ root: String) -> Bool { roots[root]?.hasRestricted ?? false }

    /// Group documents of the root and of folders above datasets, readable in a
    /// `datasets: catalog` root so readers can walk down to the datasets (what they list is
    /// filtered, and consolidated forms are given only when nothing below is hidden).
    func isGroupMetadataAboveDatasets(_ key: String, root: String) -> Bool {
        let (folder, name) = ConsolidatedMetadata.split(key)
        guard Self.groupDocumentNames.contains(String(name)) else { return false }
        return folder.isEmpty || roots[root]?.below[folder] != nil
    }

    static let groupDocumentNames: Set<String> = ["zarr.json", ".zgroup", ".zattrs", ".zmetadata"]
}

/// What the catalogue says of one key.
enum DatasetDecision: Sendable, Equatable {
    /// Outside every catalogued dataset in an `open` root, or in public ready datasets only:
    /// the root's rule alone decides, and the answer does not depend on the caller.
    case open
    /// Inside a dataset the caller may see that not everyone may: serve it, privately.
    case restricted
    /// Inside a dataset the caller may not see: answered exactly like a missing key.
    case hidden
    /// Not inside a ready dataset of a `datasets: catalog` root: missing.
    case missing
}
