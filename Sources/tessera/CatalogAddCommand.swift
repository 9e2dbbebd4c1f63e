import ArgumentParser
import Catalog
import Foundation
import ImageSources
import Storage
import ZarrCore

/// `tessera catalog add PATH_OR_S3…`: records NGFF written by anyone (Docs/catalog.md,
/// "Adding existing NGFF"). Each argument is walked (one paged listing); every NGFF image
/// (a group with `multiscales`) and every bioformats2raw collection root becomes a dataset,
/// harvested from what the NGFF holds (`NGFFHarvest`). An image inside another recorded
/// dataset (a collection's series, an image's labels) is part of it, not a dataset of its own.
/// Recording is by location, so adding again updates in place. Anything that cannot be read
/// — a symbolic link (never followed), an unreadable file or folder, a corrupt document — is
/// one error line naming it; the rest is still added, and the exit code is 1.
struct CatalogAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Record existing NGFF (folders or s3:// prefixes) in the catalogue.",
        discussion: "Walks each PATH_OR_S3 for NGFF images and bioformats2raw roots; adding the same location again updates its record."
    )

    @Argument(help: "Folders or s3://bucket/prefix URLs to walk.") var locations: [String]
    @Option(name: .customLong("group"), help: "An access group of the recorded datasets (repeatable).") var groups: [String] = []
    @Option(help: "The owner group of the recorded datasets.") var ownerGroup: String?
    @Flag(name: .customLong("public"), help: "Mark the recorded datasets public.") var isPublic = false
    @OptionGroup var options: CatalogOptions

    func validate() throws {
        guard !locations.isEmpty else { throw ValidationError("name at least one PATH_OR_S3 to walk") }
        try checkGroupNames(groups + (ownerGroup.map { [$0] } ?? []))
    }

    func run() async throws {
        let rule = DatasetRule(ownerGroup: ownerGroup, accessGroups: Set(groups), isPublic: isPublic)
        var problems = 0, recorded = 0
        try await withCatalog(options) { catalog in
            for argument in locations {
                let found = NGFFDiscovery.walk(argument)
                for problem in found.problems {
                    FileHandle.standardError.write(Data("tessera: error: \(problem)\n".utf8))
                }
                problems += found.problems.count
                for dataset in found.datasets {
                    var d = dataset.converted
                    d.access = rule
                    let (record, harvest) = Harvester.finished(d, metadata: dataset.metadata)
                    _ = try await catalog.record(record, harvest: harvest)
                    recorded += 1
                }
            }
        }
        FileHandle.standardError.write(Data("catalog add: recorded \(recorded) dataset\(recorded == 1 ? "" : "s")\(problems > 0 ? ", \(problems) not readable" : "")\n".utf8))
        if problems > 0 { throw ExitCode.failure }
    }
}

/// Finds the NGFF datasets under one location and reads what each holds.
enum NGFFDiscovery {
    struct Found {
        var converted: DatasetRecord
        var metadata: JSONValue
    }

    static func walk(_ argument: String) -> (datasets: [Found], problems: [String]) {
        var base = CatalogRecorder.absoluteLocation(argument)
        while base.contains("://"), base.hasSuffix("/") { base.removeLast() }
        let store: any Store
        do { store = try openStore(argument) } catch { return ([], ["\(argument): \(error)"]) }
        var problems = store.unlistedEntries(prefix: "").map { "\(place(base, $0.key)): \($0.kind), not read" }
        var keys = [String]()
        var sizes = [String: Int]()
        do {
            try store.listPages(prefix: "") { page in
                for entry in page { keys.append(entry.key); sizes[entry.key] = entry.size }
            }
        } catch {
            return ([], problems + ["\(argument): \(error)"])
        }
        if keys.isEmpty, problems.isEmpty { problems.append("\(argument): nothing to read there") }
        // Shallow first, so a dataset's inner images are known to be inside it.
        let nodes = Hierarchy.nodePaths(keys).sorted { ($0.split(separator: "/").count, $0) < ($1.split(separator: "/").count, $1) }
        var datasets = [Found]()
        var taken = [String]()
        func inside(_ path: String) -> Bool {
            taken.contains { $0.isEmpty || path == $0 || path.hasPrefix($0 + "/") }
        }
        for path in nodes where !inside(path) {
            let node: Node
            do { node = try Node.open(store: store, path: path) } catch {
                problems.append("\(place(base, path)): \(error)")
                continue
            }
            guard case let .group(_, attributes) = node else { continue }
            let collection = NGFFHarvest.isCollection(attributes)
            guard collection || NGFFHarvest.isImage(attributes) else { continue }
            do {
                datasets.append(try read(store, path: path, attributes: attributes, collection: collection, base: base,
                                         keys: keys, sizes: sizes))
                taken.append(path)
            } catch {
                problems.append("\(place(base, path)): \(error)")
                taken.append(path) // its inner images are part of the unreadable dataset, not datasets of their own
            }
        }
        return (datasets, problems)
    }

    /// A key under the walked location, as a location (local path or s3:// URL).
    static func place(_ base: String, _ key: String) -> String { key.isEmpty ? base : base + "/" + key }

    /// One dataset: an image, or a collection described by its first series `0/`.
    static func read(_ store: any Store, path: String, attributes: [String: JSONValue], collection: Bool, base: String,
                     keys: [String], sizes: [String: Int]) throws -> Found {
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
        let omeKey = joinKey(path, "OME/METADATA.ome.xml")
        if sizes[omeKey] != nil, let bytes = try store.get(omeKey) {
            omeScopes = OMEEssentials.scopes(String(decoding: bytes, as: UTF8.self))
        }
        // Sizes come from a listing, which a server can fill with anything: the sum saturates.
        let prefix = path.isEmpty ? "" : path + "/"
        let stored = keys.filter { $0.hasPrefix(prefix) }.reduce(0) { sum, key in
            let size = max(0, sizes[key] ?? 0)
            return sum.addingReportingOverflow(size).overflow ? Int.max : sum + size
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
