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
    @Option(name: .customShort("o"), help: ArgumentHelp("The manifest to write.", valueName: "job.json")) var manifest: String
    @OptionGroup(title: "Convert options (recorded in the manifest)") var flags: ConvertFlags
    @Option(help: "Where tasks write their reports (default: OUTPUT/.tessera-job/ID).") var reports: String?
    @Flag(help: "Replace an existing manifest.") var force = false
    @Option(help: "Inputs sized at once, and workers of --estimate's samples (default: cores).") var jobs: Int = defaultConcurrency
    @Flag(help: "Convert a few samples (per format up to 3 inputs, at most 64 MiB of pixels each) and print the job's expected output bytes, objects, CPU-hours and wall time.") var estimate = false
    @Option(help: "Cores per task, for --estimate's wall time (default: this machine's).") var cores: Int = defaultConcurrency
    @Option(name: .customLong("sample-bytes"), help: "--estimate: the most level-0 pixel bytes one sample converts; larger images are sampled by a region.") var sampleBytes: Int = 64 << 20
    @Flag(help: "Print --estimate's result as one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            guard !inputs.isEmpty else { throw UsageError("plan needs at least one input") }
            guard tasks >= 1 else { throw PlanError.badTasks(tasks) }
            guard cores >= 1 else { throw UsageError("--cores must be at least 1, got \(cores)") }
            guard !json || estimate else { throw UsageError("--json goes with --estimate") }
            guard sampleBytes >= 1 else { throw UsageError("--sample-bytes must be at least 1, got \(sampleBytes)") }
            // Refuse an existing manifest before the work of sizing every input.
            if !force, FileManager.default.fileExists(atPath: manifest) { throw PlanError.exists(manifest) }
            let options = try flags.options()
            var request = PlanRequest(inputs: inputs, output: output, tasks: tasks, options: options, convert: flags.manifest,
                                      reports: reports, width: max(1, jobs))
            request.countObjects = estimate
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
            if estimate { try printEstimate(m, plannedObjects: result.plannedObjects, options: options) }
        }
    }
}

extension PlanCommand {
    /// Samples converted here, the job predicted from them (stdout: the result).
    func printEstimate(_ m: JobManifest, plannedObjects: [Int], options: ConvertOptions) throws {
        var sampleOptions = options
        sampleOptions.jobs = max(1, jobs)
        let e = try JobEstimator.estimate(m, plannedObjects: plannedObjects, options: sampleOptions, cores: cores, limit: sampleBytes, log: logLine)
        for f in e.failedSamples { logLine("tessera: warning: estimate: a sample could not be converted: \(f)") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(e), as: UTF8.self))
            return
        }
        let sampled = e.samples.reduce(0) { $0 + $1.pixelBytes }
        print("estimate from \(e.samples.count) sample(s) (\(formatBytes(sampled)) of pixels converted), for \(e.inputs) input(s), \(formatBytes(e.inputBytes)) of files:")
        print("  output:  \(formatBytes(Int(e.outputBytes))) in \(Int(e.objects.rounded())) objects: \(Int(e.dataObjects.rounded())) chunks or shards "
              + "and \(Int(e.metadataObjects.rounded())) metadata documents (\(String(format: "%.2f", e.blowup))× the input files)")
        print("  CPU:     \(formatDuration(e.cpuHours * 3600)) of CPU (\(String(format: "%.3g", e.cpuHours)) CPU-hours)")
        print("  wall:    \(formatDuration(e.wallHours * 3600)) with \(e.tasks) task(s) × \(e.cores) core(s) (the busiest task's share)")
    }
}

/// `42 s`, `12.5 min`, `3.2 h`, `4.1 days`: a duration in the unit a person reads best.
func formatDuration(_ seconds: Double) -> String {
    if seconds < 120 { return String(format: "%.1f s", seconds) }
    if seconds < 7200 { return String(format: "%.1f min", seconds / 60) }
    if seconds < 172_800 { return String(format: "%.1f h", seconds / 3600) }
    return String(format: "%.1f days", seconds / 86400)
}

/// `1.5 GB`, decimal units as the summaries print them.
func formatBytes(_ n: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"]
    var v = Double(n), u = 0
    while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}
