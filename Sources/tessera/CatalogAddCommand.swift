import ArgumentParser
import Catalog
import Foundation
import ImageSources
import Storage
import ZarrCore

/// `tessera catalog add PATH_OR_S3…`: records NGFF written by anyone (Docs/catalog.md,
/// "Adding existing NGFF"). Each argument is walked folder by folder; every NGFF image
/// (a group with `multiscales`) and every bioformats2raw collection root becomes a dataset,
/// harvested from what the NGFF holds (`NGFFHarvest`). An image inside another recorded
/// dataset (a collection's series, an image's labels) is part of it, not a dataset of its own.
/// Recording is by location, so adding again updates in place, and a dataset recorded exactly
/// so already is left as it is. `--jobs` walkers read in parallel; the catalogue is written
/// `--batch` datasets per transaction (`CatalogAddRun`). Anything that cannot be read or
/// recorded — a symbolic link (never followed), an unreadable file or folder, a corrupt
/// document — is one error line naming it in the final summary; the rest is still added,
/// and the exit code is 1.
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
    @Option(help: "Parallel walkers reading the tree (default: cores).") var jobs: Int = defaultConcurrency
    @Option(help: "Datasets written per catalogue transaction.") var batch: Int = 200
    @OptionGroup var options: CatalogOptions

    func validate() throws {
        guard !locations.isEmpty else { throw ValidationError("name at least one PATH_OR_S3 to walk") }
        try checkGroupNames(groups + (ownerGroup.map { [$0] } ?? []))
        guard jobs >= 1, batch >= 1 else { throw ValidationError("--jobs and --batch must be at least 1") }
    }

    func run() async throws {
        let rule = DatasetRule(ownerGroup: ownerGroup, accessGroups: Set(groups), isPublic: isPublic)
        var tally = CatalogAddRun.Tally()
        let (locations, jobs, batch) = (locations, jobs, batch)
        try await withCatalog(options) { catalog in
            let work = CatalogAddRun(catalog: catalog, rule: rule, jobs: jobs, batchSize: batch, progressEvery: 5)
            tally = try await runOffThePool { try work.run(locations) }
        }
        for line in tally.failures.sorted() {
            FileHandle.standardError.write(Data("tessera: error: \(line)\n".utf8))
        }
        let failed = tally.failures.count
        FileHandle.standardError.write(Data(("catalog add: \(tally.added) added, \(tally.updated) updated, "
            + "\(tally.unchanged) unchanged, \(failed) failed\(failed > 0 ? " (listed above)" : "")\n").utf8))
        if failed > 0 { throw ExitCode.failure }
    }
}
