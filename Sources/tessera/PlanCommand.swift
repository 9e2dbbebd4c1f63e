import ArgumentParser
import Batch
import Conversion
import Foundation
import ZarrCore

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a bulk conversion: size every input from its header and share the work among N tasks (job.json).",
        discussion: """
        INPUTS are files, folders (searched at any depth), quoted glob patterns (*, ?, [..], **), \
        CSV/TSV lists of input,output rows, or s3://bucket/prefix. Work is balanced by pixel bytes; \
        an image larger than a task's share is split into regions converted by several tasks. \
        Each task then runs `tessera run job.json --task I`. Docs/cluster.md.
        """
    )

    @Argument(help: "Input files, folders, glob patterns, CSV/TSV lists or s3:// prefixes.") var inputs: [String] = []
    @Option(help: "The output root: a folder or s3://bucket/prefix.") var output: String
    @Option(help: "How many tasks share the work (array indices 0..<N).") var tasks: Int
    @Option(name: .customShort("o"), help: "The manifest to write (job.json).") var manifest: String
    @OptionGroup(title: "Convert options (recorded in the manifest)") var flags: ConvertFlags
    @Option(help: "Where tasks write their reports (default: OUTPUT/.tessera-job/ID).") var reports: String?
    @Flag(help: "Replace an existing manifest.") var force = false
    @Option(help: "Inputs sized at once (default: cores).") var jobs: Int = defaultConcurrency

    func run() throws {
        try reportingErrors {
            guard !inputs.isEmpty else { throw UsageError("plan needs at least one input") }
            guard tasks >= 1 else { throw PlanError.badTasks(tasks) }
            // Refuse an existing manifest before the work of sizing every input.
            if !force, FileManager.default.fileExists(atPath: manifest) { throw PlanError.exists(manifest) }
            let options = try flags.options()
            let request = PlanRequest(inputs: inputs, output: output, tasks: tasks, options: options, convert: flags.manifest,
                                      reports: reports, width: max(1, jobs))
            let start = Date()
            let result = try JobPlanner.plan(request)
            try result.manifest.write(to: manifest, force: force)
            for warning in result.warnings.prefix(20) { logLine("tessera: warning: cannot be opened (the run will report it failed): \(warning)") }
            if result.warnings.count > 20 { logLine("tessera: warning: … and \(result.warnings.count - 20) more inputs that cannot be opened") }
            let m = result.manifest
            let largest = result.loads.max() ?? 0, smallest = result.loads.min() ?? 0
            let mean = Double(result.pixelBytes) / Double(m.tasks)
            logLine(String(format: "planned %d input(s), %d image(s), %@ of pixels into %d task(s): largest task %@, smallest %@ (%.1f%% / %.1f%% of the mean); %d image(s) split; %d cannot be opened; %.2f s",
                           m.inputs.count, result.images, formatBytes(result.pixelBytes), m.tasks, formatBytes(largest), formatBytes(smallest),
                           mean > 0 ? 100 * Double(largest) / mean : 100, mean > 0 ? 100 * Double(smallest) / mean : 100,
                           result.splitImages, result.warnings.count, Date().timeIntervalSince(start)))
            logLine("wrote \(manifest) (job \(m.id)); run each task with: tessera run \(manifest) --task I   (I = 0…\(m.tasks - 1))")
        }
    }
}

/// `1.5 GB`, decimal units as the summaries print them.
func formatBytes(_ n: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"]
    var v = Double(n), u = 0
    while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}
