import ArgumentParser
import Catalog
import Conversion
import CatalogStores
import Foundation
import Ingest
import ZarrCore

/// `tessera watch DIR… --output ROOT`: converts every image file that appears in the folders,
/// once it is stable, and records it in the catalogue (Docs/catalog.md, "Watch").
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Convert and catalogue image files as they appear in folders.",
        discussion: """
        Scans the folders every --scan-seconds (a polling scan: it works on NFS and SMB \
        mounts). A file is taken once its size, times and inode stayed unchanged for \
        --stable-seconds and its modification time is at least that old; empty, hidden and \
        partial (*.part, *.tmp, *~) files are not. The catalogue (default: \
        ROOT/.tessera-catalog.sqlite) keeps what was converted or failed, so a restart \
        converts nothing twice and misses nothing; a failed file is retried only once it changes.
        """
    )

    @Argument(help: "Folders to watch.") var folders: [String]
    @Option(help: "The output root: each file's output goes to ROOT/<its path under the folder>.ome.zarr.") var output: String
    @Option(name: .customLong("stable-seconds"), help: "Seconds a file must stay unchanged before it is converted.") var stableSeconds: Double = 30
    @Option(name: .customLong("scan-seconds"), help: "Seconds between scans.") var scanSeconds: Double = 5
    @Flag(help: "Also log the converter's own lines for each file (levels done, objects kept).") var verbose = false
    @OptionGroup var flags: ConvertFlags
    @OptionGroup var machine: MachineFlags
    @OptionGroup var catalog: CatalogFlags

    func run() async throws {
        try await reportingErrorsAsync {
            guard !folders.isEmpty else { throw UsageError("watch needs at least one folder") }
            guard stableSeconds >= 0, stableSeconds.isFinite else { throw UsageError("--stable-seconds must be 0 or more") }
            guard scanSeconds > 0, scanSeconds.isFinite else { throw UsageError("--scan-seconds must be more than 0") }
            var options = try flags.options()
            try machine.apply(to: &options)
            options.progressBars = false
            let root = output.contains("://") ? output : CatalogRecorder.absoluteLocation(output)
            let watched = try folders.map { folder in
                let path = CatalogRecorder.absoluteLocation(folder)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw WatchError.badFolder(folder, "is not a folder")
                }
                return path
            }
            if !root.contains("://") { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
            let url = try catalog.url() ?? defaultCatalog(root)
            let store = try await CatalogLocation(parsing: url).open()
            guard let ledger = store as? any IngestLedger else {
                throw UsageError("the catalog \(url) cannot keep watch state")
            }
            let recorder = CatalogRecorder(store: store, url: url, access: catalog.rule)
            var settings = WatchSettings(folders: watched, output: root, options: options)
            settings.stableSeconds = stableSeconds
            settings.scanSeconds = scanSeconds
            settings.jobs = max(1, machine.jobs)
            settings.verbose = verbose
            let watcher = Watcher(settings: settings, ledger: ledger, observer: recorder, datasetUID: { destination in
                try waitForAsync { try await store.dataset(location: CatalogRecorder.absoluteLocation(destination))?.uid }
            }, log: logLine)
            logLine("watch: watching \(watched.joined(separator: ", ")) → \(root) (catalog \(url), stable after \(stableSeconds) s)")
            try await runOffThePool { watcher.run() }
            await recorder.close()
        }
    }

    /// Next to a local output; an S3 output needs --catalog (SQLite cannot live in a bucket).
    func defaultCatalog(_ root: String) throws -> String {
        guard !root.contains("://") else { throw UsageError("an s3:// output needs --catalog (or TESSERA_CATALOG)") }
        return "sqlite:" + root + "/.tessera-catalog.sqlite"
    }
}
