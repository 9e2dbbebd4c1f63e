import Conversion
import Foundation

/// Which part of an input a report line is about: the whole input (`null`), one region
/// of a split image (its index), or the step that finishes a split image (`"finish"`).
public enum ReportRegion: Codable, Sendable, Hashable, CustomStringConvertible {
    case index(Int)
    case finish

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .index(i); return }
        guard try c.decode(String.self) == "finish" else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "region must be an index or \"finish\"")
        }
        self = .finish
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .index(i): try c.encode(i)
        case .finish: try c.encode("finish")
        }
    }

    public var description: String {
        switch self {
        case let .index(i): return "region \(i)"
        case .finish: return "finish"
        }
    }
}

/// One line of a task's report (Docs/cluster.md, "Reports"): an item started, or how it
/// ended and what it cost.
public struct ReportLine: Codable, Sendable, Equatable {
    public var job: String
    public var task: Int
    /// host-pid-starttime of the process that wrote it.
    public var run: String
    /// ISO 8601, UTC, microseconds.
    public var time: String
    public var input: String
    public var output: String
    public var region: ReportRegion?
    public var status: WorkStatus
    public var format: String
    public var codec: String
    public var bytesIn = 0
    public var bytesOut = 0
    public var objects = 0
    public var wallS = 0.0
    public var cpuS = 0.0
    public var peakRss = 0
    /// One line; nil unless failed.
    public var error: String?

    public init(job: String, task: Int, run: String, time: String, input: String, output: String, region: ReportRegion?,
                status: WorkStatus, format: String, codec: String) {
        self.job = job
        self.task = task
        self.run = run
        self.time = time
        self.input = input
        self.output = output
        self.region = region
        self.status = status
        self.format = format
        self.codec = codec
    }

    enum CodingKeys: String, CodingKey {
        case job, task, run, time, input, output, region, status, format, codec
        case bytesIn = "bytes_in", bytesOut = "bytes_out", objects, wallS = "wall_s", cpuS = "cpu_s", peakRss = "peak_rss", error
    }

    // Written by hand so `region` and `error` appear as null rather than being left out.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job, forKey: .job)
        try c.encode(task, forKey: .task)
        try c.encode(run, forKey: .run)
        try c.encode(time, forKey: .time)
        try c.encode(input, forKey: .input)
        try c.encode(output, forKey: .output)
        try c.encode(region, forKey: .region)
        try c.encode(status, forKey: .status)
        try c.encode(format, forKey: .format)
        try c.encode(codec, forKey: .codec)
        try c.encode(bytesIn, forKey: .bytesIn)
        try c.encode(bytesOut, forKey: .bytesOut)
        try c.encode(objects, forKey: .objects)
        try c.encode(wallS, forKey: .wallS)
        try c.encode(cpuS, forKey: .cpuS)
        try c.encode(peakRss, forKey: .peakRss)
        try c.encode(error, forKey: .error)
    }

    /// The work item this line is about: output names are unique within a job.
    public var item: WorkItemKey { WorkItemKey(output: output, region: region) }

    /// The line as one JSON text ending in a newline.
    public func serialized() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    public static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}

/// A whole input (region nil) or one region of a split input.
public struct WorkItemKey: Hashable, Sendable {
    public var output: String
    public var region: ReportRegion?
}
