import Conversion
import Foundation
import ImageSources
import ZarrCore

/// What `tessera plan` was asked.
public struct PlanRequest: Sendable {
    public var inputs: [String]
    /// Local folder or `s3://bucket/prefix`.
    public var output: String
    public var tasks: Int
    public var options: ConvertOptions
    /// The convert flags as job.json records them (`ConvertFlags.manifest`).
    public var convert: [String: String]
    /// Where tasks write reports; nil = `<output>/.tessera-job/<id>`.
    public var reports: String?
    /// Inputs sized at once.
    public var width: Int
    public var workingDirectory: String
    /// Count the objects convert plans for each input (for `--estimate`).
    public var countObjects = false

    public init(inputs: [String], output: String, tasks: Int, options: ConvertOptions, convert: [String: String],
                reports: String? = nil, width: Int = defaultConcurrency,
                workingDirectory: String = FileManager.default.currentDirectoryPath) {
        self.inputs = inputs
        self.output = output
        self.tasks = tasks
        self.options = options
        self.convert = convert
        self.reports = reports
        self.width = width
        self.workingDirectory = workingDirectory
    }
}

/// The plan and what to tell the user about it.
public struct PlanResult: Sendable {
    public var manifest: JobManifest
    /// Inputs that cannot be opened (kept in the plan: the run reports them failed).
    public var warnings: [String]
    public var images: Int
    public var pixelBytes: Int
    /// Pixel bytes per task.
    public var loads: [Int]
    public var splitImages: Int
    /// Per manifest input: the chunk or shard objects convert plans (with `countObjects`).
    public var plannedObjects: [Int]
}

/// inputs → files → sizes → names → work items (big images split) → tasks → manifest.
public enum JobPlanner {
    public static func plan(_ request: PlanRequest, now: Date = Date()) throws -> PlanResult {
        guard request.tasks >= 1 else { throw PlanError.badTasks(request.tasks) }
        // Sorted by input, so the same inputs give the same manifest in any order given.
        let expanded = try InputExpansion.expand(request.inputs, workingDirectory: request.workingDirectory)
            .sorted { ($0.input, $0.output ?? "") < ($1.input, $1.output ?? "") }
        let names = try OutputNaming.names(for: expanded)
        let width = expanded.contains { $0.input.hasPrefix("s3://") } ? max(request.width, 16) : request.width
        let sized = InputSizing.size(expanded, options: request.options, width: width, countObjects: request.countObjects)
        let (inputs, loads) = try balance(sized, names: names, tasks: request.tasks) { s, parts in
            try splitRegions(s, parts: parts, options: request.options)
        }

        let id = JobManifest.newID(now: now)
        let output = request.output.contains("://") ? request.output
            : InputExpansion.absolutePath(request.output, relativeTo: request.workingDirectory)
        let reports = request.reports.map { $0.contains("://") ? $0 : InputExpansion.absolutePath($0, relativeTo: request.workingDirectory) }
            ?? joinLocation(output, ".tessera-job/\(id)")
        let manifest = JobManifest(plannedBy: "tessera \(tesseraVersion)", created: JobManifest.timestamp(now), id: id,
                                   output: output, reports: reports, convert: request.convert, tasks: request.tasks, inputs: inputs)
        return PlanResult(manifest: manifest,
                          warnings: sized.compactMap { s in s.error.map { $0.contains(s.input.input) ? $0 : "'\(s.input.input)': \($0)" } },
                          images: sized.reduce(0) { $0 + $1.images },
                          pixelBytes: sized.reduce(0) { $0 &+ $1.pixelBytes },
                          loads: loads, splitImages: inputs.filter { $0.split != nil }.count, plannedObjects: sized.map(\.plannedObjects))
    }

    /// Work items (whole inputs, and regions of images above a task's fair share) spread
    /// over the tasks by pixel bytes.
    /// `split(input, parts)` cuts one image into regions (nil: keep it whole).
    static func balance(_ sized: [SizedInput], names: [String], tasks taskCount: Int,
                        split splitter: (SizedInput, Int) throws -> (JobSplit, [Int])?) throws -> ([JobInput], [Int]) {
        var inputs = zip(sized, names).map { s, name in
            JobInput(input: s.input.input, output: name, format: s.format, fileBytes: s.fileBytes, pixelBytes: s.pixelBytes)
        }
        let total = sized.reduce(0.0) { $0 + Double($1.pixelBytes) }
        let fair = total / Double(taskCount)
        // (input, region or nil, weight)
        var items = [(input: Int, region: Int?, weight: Int)]()
        for (k, s) in sized.enumerated() {
            if taskCount > 1, s.error == nil, s.images == 1, Double(s.pixelBytes) > fair,
               let split = try splitter(s, min(taskCount, Int((Double(s.pixelBytes) / fair).rounded(.up)))) {
                inputs[k].split = split.0
                for (r, weight) in split.1.enumerated() { items.append((k, r, weight)) }
            } else {
                items.append((k, nil, s.pixelBytes))
            }
        }
        let weights = items.map(\.weight)
        let tasks = WorkBalancer.assign(weights, tasks: taskCount)
        for (item, task) in zip(items, tasks) {
            if let r = item.region { inputs[item.input].split?.regions[r].task = task } else { inputs[item.input].task = task }
        }
        return (inputs, WorkBalancer.loads(weights, tasks: tasks, count: taskCount))
    }

    /// The regions `SplitPlanner` cuts the image into, with their pixel bytes; nil when it
    /// gives a single region (nothing to split) or the image cannot be opened again.
    static func splitRegions(_ s: SizedInput, parts: Int, options: ConvertOptions) throws -> (JobSplit, [Int])? {
        guard parts >= 2 else { return nil }
        guard let image = try? InputSizing.withOpened(s.input.input, options: options, { file, _ in file.images.first?.description }) else { return nil }
        let (regions, regionLevels) = try SplitPlanner.regions(for: image, options: options, parts: parts)
        guard regions.count >= 2 else { return nil }
        let split = JobSplit(regionLevels: regionLevels, regions: regions.map { JobRegion(origin: $0.origin, shape: $0.shape, task: 0) })
        return (split, regions.map { $0.elementCount &* image.dataType.size })
    }
}
