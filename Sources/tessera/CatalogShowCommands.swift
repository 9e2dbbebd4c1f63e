import ArgumentParser
import Catalog
import Foundation
import ZarrCore

/// `tessera catalog show`: one dataset, with its harvested metadata in the JSON form.
struct CatalogShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one dataset of the catalogue (its harvested metadata too with --json)."
    )

    @Argument(help: "The dataset: uid or location.") var dataset: String
    @Flag(help: "Print one JSON object (the dataset and its harvested metadata).") var json = false
    @OptionGroup var options: CatalogOptions

    func run() async throws {
        try await withCatalog(options) { store in
            guard let record = try await findDataset(dataset, in: store) else {
                throw CatalogCommandError("no dataset \(dataset) in the catalog")
            }
            if json {
                var object = DatasetText.json(record)
                if case var .object(o) = object {
                    o["metadata"] = try await store.metadataDocument(uid: record.uid, visibleTo: .everyone) ?? .null
                    object = .object(o)
                }
                DatasetText.printJSON(object)
            } else {
                print(DatasetText.lines(record))
            }
        }
    }
}

/// `tessera catalog list`: every dataset, one line each (or a JSON array).
struct CatalogListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the catalogue's datasets: uid, status, access and location."
    )

    @Flag(help: "Print a JSON array of {uid, root, location, status, ownerGroup, accessGroups, public}.") var json = false
    @OptionGroup var options: CatalogOptions

    func run() async throws {
        try await withCatalog(options) { store in
            let entries = try await store.accessSnapshot().entries
            if json {
                DatasetText.printJSON(.array(entries.map { e in
                    .object([
                        "uid": .string(e.uid), "root": e.root.map { .string($0) } ?? .null, "location": .string(e.location),
                        "status": .string(e.status.rawValue), "ownerGroup": e.rule.ownerGroup.map { .string($0) } ?? .null,
                        "accessGroups": .array(e.rule.accessGroups.sorted().map { .string($0) }), "public": .bool(e.rule.isPublic),
                    ])
                }))
            } else if entries.isEmpty {
                logLine("tessera catalog: no datasets")
            } else {
                for e in entries {
                    print("\(e.uid)  \(e.status.rawValue)  \(DatasetText.access(e.rule))  \(e.location)")
                }
            }
        }
    }
}
