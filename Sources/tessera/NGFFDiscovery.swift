import Catalog
import Foundation
import ImageSources
import Storage
import ZarrCore

/// Finds the NGFF datasets under one location and reads what each holds, a folder at a time:
/// memory follows the folders waiting to be looked at, never the objects under them (a
/// dataset's chunks are never listed by the walk, only counted by the worker that reads it).
enum NGFFDiscovery {
    struct Found {
        var converted: DatasetRecord
        var metadata: JSONValue
    }

    /// What one folder of the walk turned out to be.
    enum Visit {
        /// An NGFF image or bioformats2raw root: a dataset (not looked into further).
        case dataset(attributes: [String: JSONValue], collection: Bool)
        /// Not a dataset; these subfolders may hold some.
        case descend([String])
        /// An array, or nothing to look at.
        case leaf
    }

    /// Looks at one folder ("" is the walked location itself): its node, if it holds one, and
    /// otherwise its subfolders. A node that cannot be read is a problem; its subfolders are
    /// still looked at (an image inside a broken group is still an image).
    static func visit(_ store: any Store, folder: String, base: String, problem: (String) -> Void) -> Visit {
        let listing: FolderListing?
        do { listing = try store.listFolder(folder) } catch {
            problem("\(place(base, folder)): \(error)")
            return .leaf
        }
        guard let listing else { return .leaf }
        let children = listing.folders.sorted().map { joinKey(folder, $0) }
        guard listing.objects.contains(where: { ZarrKeys.nodeDocuments.contains($0.key) }) else { return .descend(children) }
        let node: Node
        do { node = try Node.open(store: store, path: folder) } catch {
            problem("\(place(base, folder)): \(error)")
            return .descend(children)
        }
        guard case let .group(_, attributes) = node else { return .leaf }
        let collection = NGFFHarvest.isCollection(attributes)
        guard collection || NGFFHarvest.isImage(attributes) else { return .descend(children) }
        return .dataset(attributes: attributes, collection: collection)
    }

    /// The location as the catalogue records it (absolute path, or s3:// URL without a
    /// trailing slash).
    static func base(of argument: String) -> String {
        var base = CatalogRecorder.absoluteLocation(argument)
        while base.contains("://"), base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// A key under the walked location, as a location (local path or s3:// URL).
    static func place(_ base: String, _ key: String) -> String { key.isEmpty ? base : base + "/" + key }

    /// One dataset: an image, or a collection described by its first series `0/`.
    static func read(_ store: any Store, path: String, attributes: [String: JSONValue], collection: Bool,
                     base: String) throws -> Found {
        var imagePath = path, imageAttributes = attributes
        if collection {
            imagePath = joinKey(path, "0")
            guard case let .group(_, a) = try Node.open(store: store, path: imagePath), NGFFHarvest.isImage(a) else {
                throw ZarrError.invalidMetadata(key: store.describe(imagePath), reason: "a bioformats2raw root whose series 0 is not an NGFF image")
            }
            imageAttributes = a
        }
        var levels = [NGFFHarvest.Level]()
        for levelPath in NGFFHarvest.levelPaths(imageAttributes) {
            let key = joinKey(imagePath, levelPath)
            guard case let .array(m) = try Node.open(store: store, path: key) else {
                throw ZarrError.invalidMetadata(key: store.describe(key), reason: "a multiscales level that is not an array")
            }
            levels.append(.init(path: levelPath, shape: m.shape, dataType: m.dataType.v3Name, chunks: m.chunkShape))
        }
        guard !levels.isEmpty else {
            throw ZarrError.invalidMetadata(key: store.describe(imagePath), reason: "multiscales names no levels")
        }
        var omeScopes = [JSONValue]()
        let omeFolder = joinKey(path, "OME")
        if try !store.entries(named: ["METADATA.ome.xml"], in: omeFolder).isEmpty,
           let bytes = try store.get(joinKey(omeFolder, "METADATA.ome.xml")) {
            omeScopes = OMEEssentials.scopes(String(decoding: bytes, as: UTF8.self))
        }
        // Sizes come from a listing, which a server can fill with anything: the sum saturates.
        var stored = 0
        try store.listPages(prefix: path.isEmpty ? "" : path + "/") { page in
            for entry in page {
                let size = max(0, entry.size)
                stored = stored.addingReportingOverflow(size).overflow ? Int.max : stored + size
            }
        }
        let location = place(base, path)
        let named = NGFFHarvest.imageAttributes(imageAttributes)["multiscales"]?.arrayValue?.first?["name"]?.stringValue
        let name = named.flatMap { $0.isEmpty ? nil : $0 } ?? (location as NSString).lastPathComponent
        let converted = DatasetRecord(name: name, location: location, format: "ngff", storedBytes: Int64(stored),
                                      dimensions: NGFFHarvest.dimensions(imageAttributes, levels: levels))
        // A collection's NGFF description is its series 0's; Tessera's attribute may sit on either.
        var harvested = imageAttributes
        if harvested["tessera"] == nil, let tessera = attributes["tessera"] { harvested["tessera"] = tessera }
        return Found(converted: converted, metadata: NGFFHarvest.metadata(harvested, levels: levels, omeScopes: omeScopes))
    }
}
