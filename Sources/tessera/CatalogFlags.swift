import ArgumentParser
import Catalog
import CatalogStores
import Foundation
import ZarrCore

/// `--catalog URL [--group G]… [--owner-group G] [--public]` on `convert` and `run`: record
/// every output in a catalogue (Docs/catalog.md, "Harvest"). Without `--catalog`, the
/// `TESSERA_CATALOG` environment variable names it; with neither, nothing is recorded.
struct CatalogFlags: ParsableArguments {
    @Option(help: "Record each output in this catalog: sqlite:PATH or postgres://USER@HOST[:PORT]/DB (default: $TESSERA_CATALOG).")
    var catalog: String?
    @Option(name: .customLong("group"), help: "An access group of the recorded datasets (repeat for several).")
    var groups: [String] = []
    @Option(name: .customLong("owner-group"), help: "The owner group of the recorded datasets.")
    var ownerGroup: String?
    @Flag(name: .customLong("public"), help: "Mark the recorded datasets public (anyone may see them).")
    var isPublic = false

    /// The catalogue URL to write to, if any.
    func url(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        let url = catalog ?? environment["TESSERA_CATALOG"].flatMap { $0.isEmpty ? nil : $0 }
        if url == nil, !groups.isEmpty || ownerGroup != nil || isPublic {
            throw UsageError("--group, --owner-group and --public need --catalog (or TESSERA_CATALOG)")
        }
        for group in groups + [ownerGroup].compactMap({ $0 }) where group.isEmpty || group.contains(where: \.isNewline) {
            throw UsageError("group names must be non-empty single-line strings, got '\(group)'")
        }
        return url
    }

    var rule: DatasetRule { DatasetRule(ownerGroup: ownerGroup, accessGroups: Set(groups), isPublic: isPublic) }

    /// Opens the catalogue (migrating it) when one is asked for.
    func recorder() async throws -> CatalogRecorder? {
        guard let url = try url() else { return nil }
        let location = try CatalogLocation(parsing: url)
        let store = try await location.open()
        return CatalogRecorder(store: store, url: url, access: rule)
    }
}
