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
        abstract: "Show the catalog's datasets per root and owner group, the roots' disk use, the watch-ingest queue and recent failures."
    )

    @Option(help: "The catalog: sqlite:PATH or postgres://USER@HOST[:PORT]/DB (default: $TESSERA_CATALOG).") var catalog: String?
    @Option(help: "How many recent failures to show.") var failures = 50
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "A gateway configuration (tessera serve --config): its roots are reported, its uploaders' quotas shown, and its catalog.store used when --catalog is not given.")
    var config: String?
    @Option(name: .customLong("root"), help: "NAME=PATH_OR_S3_URL, repeatable: a root to report (as for tessera serve).") var roots: [String] = []

    func run() async throws {
        try await reportingErrorsAsync {
            let configuration = try config.map(GatewayConfiguration.load(yamlFile:)) ?? GatewayConfiguration()
            let served = (configuration.roots ?? []) + (try roots.map(RootConfiguration.init(argument:)))
            let environment = ProcessInfo.processInfo.environment["TESSERA_CATALOG"].flatMap { $0.isEmpty ? nil : $0 }
            guard let url = catalog ?? configuration.catalog?.store ?? environment else {
                throw UsageError("status needs --catalog (or catalog.store in --config, or TESSERA_CATALOG)")
            }
            guard failures >= 0 else { throw UsageError("--failures must be 0 or more") }
            let store = try await CatalogLocation(parsing: url).open()
            defer { Task { try? await store.close() } }
            guard let source = store as? any CatalogStatusSource else { throw UsageError("the catalog \(url) cannot report status") }
            let s = try await StatusReport.gather(source, roots: served.map { ($0.name, $0.location) }, failures: failures,
                                                 quota: configuration.uploads.map { uploads in { uploads.quota(of: $0) } })
            if json {
                FileHandle.standardOutput.write(try s.json(pretty: true) + Data("\n".utf8))
                return
            }
            var lines = [String]()
            if !s.roots.isEmpty { lines.append("roots (ready datasets):") }
            for r in s.roots {
                var line = "  \(r.name) (\(r.location)): \(r.datasets) (\(r.storedBytes) bytes)"
                if let d = r.disk { line += "; disk \(d.usedBytes) used, \(d.freeBytes) free of \(d.totalBytes) bytes" }
                lines.append(line)
            }
            lines.append("owner groups (ready datasets):")
            if s.groups.isEmpty { lines.append("  none") }
            for g in s.groups { lines.append("  \(g.group ?? "-"): \(g.datasets) (\(g.storedBytes) bytes)") }
            lines.append("datasets:")
            if s.datasets.isEmpty { lines.append("  none") }
            for d in s.datasets {
                lines.append("  root \(d.root ?? "-"), owner group \(d.ownerGroup ?? "-"), \(d.status): \(d.datasets) (\(d.storedBytes) bytes)")
            }
            lines.append("ingest: " + StatusReport.ingestStates.map { "\($0) \(s.ingest[$0] ?? 0)" }.joined(separator: ", "))
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
