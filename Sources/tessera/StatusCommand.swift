import ArgumentParser
import Catalog
import CatalogStores
import Foundation
import Gateway
import ZarrCore

/// `tessera status`: the catalogue's numbers (Docs/catalog.md, "Status").
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the catalog's datasets, watch-ingest queue and recent failures."
    )

    @Option(help: "The catalog: sqlite:PATH or postgres://USER@HOST[:PORT]/DB (default: $TESSERA_CATALOG).") var catalog: String?
    @Option(help: "How many recent failures to show.") var failures = 50
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "The gateway's configuration (tessera.yaml): each uploader's quota is shown, and its catalog.store is the default catalog.")
    var config: String?

    func run() async throws {
        try await reportingErrorsAsync {
            let gateway = try config.map { try GatewayConfiguration.load(yamlFile: $0) }
            guard let url = catalog ?? gateway?.catalog?.store
                ?? ProcessInfo.processInfo.environment["TESSERA_CATALOG"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw UsageError("status needs --catalog (or TESSERA_CATALOG)")
            }
            guard failures >= 0 else { throw UsageError("--failures must be 0 or more") }
            let store = try await CatalogLocation(parsing: url).open()
            defer { Task { try? await store.close() } }
            guard let source = store as? any CatalogStatusSource else { throw UsageError("the catalog \(url) cannot report status") }
            var s = try await source.status(failures: failures)
            if let uploads = gateway?.uploads {
                for i in s.uploads.indices { s.uploads[i].quotaBytes = uploads.quota(of: s.uploads[i].uploader) }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                FileHandle.standardOutput.write(try encoder.encode(s) + Data("\n".utf8))
                return
            }
            var lines = ["datasets:"]
            if s.datasets.isEmpty { lines.append("  none") }
            for d in s.datasets {
                lines.append("  root \(d.root ?? "-"), owner group \(d.ownerGroup ?? "-"), \(d.status): \(d.datasets) (\(d.storedBytes) bytes)")
            }
            lines.append("ingest: " + ["converting", "done", "failed"].map { "\($0) \(s.ingest[$0] ?? 0)" }.joined(separator: ", "))
            if !s.recentFailures.isEmpty { lines.append("recent failures:") }
            for f in s.recentFailures { lines.append("  \(f.path): \(f.error)") }
            if !s.uploads.isEmpty { lines.append("uploads:") }
            for u in s.uploads {
                lines.append("  \(u.uploader): \(u.usedBytes) bytes used\(u.quotaBytes.map { " of \($0)" } ?? "")"
                             + " (\(u.stagedUploads) uploads, \(u.stagedBytes) bytes; \(u.receivingBytes) bytes reserved while receiving)")
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }
}
