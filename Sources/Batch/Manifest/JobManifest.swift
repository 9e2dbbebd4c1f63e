import Foundation

/// `job.json`: one bulk conversion, planned once by `tessera plan` and carried out by
/// `tessera run --task I` on any number of machines. It is the only thing tasks share
/// besides the output root: the convert options (recorded once), every input with its
/// output name and size, and which task converts which input or region. Schema:
/// `Specs/job.schema.json`; readers refuse a `tessera_job` newer than `JobManifest.schemaVersion`.
public struct JobManifest: Codable, Sendable, Equatable {
    /// The schema version this Tessera writes and the newest it reads.
    public static let schemaVersion = 1

    /// Schema version of this document.
    public var tesseraJob: Int
    /// `tessera --version` of the planner.
    public var plannedBy: String
    /// ISO 8601, UTC.
    public var created: String
    /// A short name unique to this plan (reports of two jobs into one root never mix).
    public var id: String
    /// The output root: a local folder or `s3://bucket/prefix`. Each input's `output` is
    /// relative to it.
    public var output: String
    /// Where tasks write their report lines (`<output>/.tessera-job/<id>` unless given).
    public var reports: String
    /// The convert options, by long flag name without dashes (`codec` → `zstd`;
    /// a flag that takes no value → `"true"`). Only options that change what is stored;
    /// `--jobs` and `--memory` belong to the machine and are given to `tessera run`.
    public var convert: [String: String]
    /// How many tasks share the work (array indices 0..<tasks).
    public var tasks: Int
    public var inputs: [JobInput]

    public init(plannedBy: String, created: String, id: String, output: String, reports: String,
                convert: [String: String], tasks: Int, inputs: [JobInput]) {
        self.tesseraJob = Self.schemaVersion
        self.plannedBy = plannedBy
        self.created = created
        self.id = id
        self.output = output
        self.reports = reports
        self.convert = convert
        self.tasks = tasks
        self.inputs = inputs
    }

    enum CodingKeys: String, CodingKey {
        case tesseraJob = "tessera_job", plannedBy = "planned_by", created, id, output, reports, convert, tasks, inputs
    }
}

/// One input file and where it goes.
public struct JobInput: Codable, Sendable, Equatable {
    /// A local path (absolute) or `s3://bucket/key`; for HDF5 optionally `path:/dataset`.
    public var input: String
    /// Relative to the job's output root, e.g. `a/x.ome.zarr`. Unique within the job.
    public var output: String
    /// `tiff`, `hdf5` or `fits` (from the file's first bytes, not its name).
    public var format: String
    /// Size of the input file.
    public var fileBytes: Int
    /// Level-0 pixel bytes of every image in the file: the measure work is balanced by.
    public var pixelBytes: Int
    /// The task converting the whole input; nil when it is split into regions.
    public var task: Int?
    /// Set when the input (one image) is larger than a task's fair share: its level 0 is
    /// cut into regions converted by different tasks.
    public var split: JobSplit?

    public init(input: String, output: String, format: String, fileBytes: Int, pixelBytes: Int, task: Int? = nil, split: JobSplit? = nil) {
        self.input = input
        self.output = output
        self.format = format
        self.fileBytes = fileBytes
        self.pixelBytes = pixelBytes
        self.task = task
        self.split = split
    }

    enum CodingKeys: String, CodingKey {
        case input, output, format, fileBytes = "file_bytes", pixelBytes = "pixel_bytes", task, split
    }
}

/// A large image cut into regions of level 0, each aligned to the storage objects of
/// every level it writes, so two tasks never write the same object.
public struct JobSplit: Codable, Sendable, Equatable {
    /// Region tasks write levels 0..<regionLevels; the finisher builds the rest from
    /// level regionLevels-1 and writes the NGFF metadata, exactly once.
    public var regionLevels: Int
    public var regions: [JobRegion]

    public init(regionLevels: Int, regions: [JobRegion]) {
        self.regionLevels = regionLevels
        self.regions = regions
    }

    enum CodingKeys: String, CodingKey {
        case regionLevels = "region_levels", regions
    }
}

/// A box of level 0 (image axes order, like the image's shape) and its task.
public struct JobRegion: Codable, Sendable, Equatable {
    public var origin: [Int]
    public var shape: [Int]
    public var task: Int

    public init(origin: [Int], shape: [Int], task: Int) {
        self.origin = origin
        self.shape = shape
        self.task = task
    }
}
