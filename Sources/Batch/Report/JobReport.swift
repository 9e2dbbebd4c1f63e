import Conversion
import Foundation

/// `tessera report`: every task's report lines merged into one picture of the job. Each
/// work item counts by its latest line (done/skipped → done, failed → failed, started
/// only → running, or died; none → pending), and the totals are the sums over those same
/// latest lines, so they add up whatever was rerun.
public struct JobReport: Codable, Sendable, Equatable {
    public var done = 0, failed = 0, running = 0, pending = 0, items = 0
    public var bytesIn = 0, bytesOut = 0, objects = 0
    /// Sums over the items' latest lines.
    public var cpuS = 0.0, wallS = 0.0
    /// From the first line to the last: the job's elapsed time so far.
    public var spanS = 0.0
    public var throughputBytesPerS = 0.0
    public var objectsPerTb = 0.0, cpuHoursPerTb = 0.0
    /// Output bytes per input byte, by codec and by input format.
    public var blowupByCodec = [String: Double](), blowupByFormat = [String: Double]()
    public var peakRss = 0
    public var failures = [Failure]()
    public var retry = ""
    /// Array indices holding failures, for resubmitting only those tasks.
    public var retryTasks = [Int]()
    /// Lines in the report files that could not be read (torn by a killed task).
    public var unreadableLines = 0

    public struct Failure: Codable, Sendable, Equatable {
        public var input: String
        public var region: ReportRegion?
        public var error: String
        public var task: Int

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(input, forKey: .input)
            try c.encode(region, forKey: .region)
            try c.encode(error, forKey: .error)
            try c.encode(task, forKey: .task)
        }
    }

    enum CodingKeys: String, CodingKey {
        case done, failed, running, pending, items, objects, failures, retry
        case bytesIn = "bytes_in", bytesOut = "bytes_out", cpuS = "cpu_s", wallS = "wall_s", spanS = "span_s"
        case throughputBytesPerS = "throughput_bytes_per_s", objectsPerTb = "objects_per_tb", cpuHoursPerTb = "cpu_hours_per_tb"
        case blowupByCodec = "blowup_by_codec", blowupByFormat = "blowup_by_format", peakRss = "peak_rss"
        case retryTasks = "retry_tasks", unreadableLines = "unreadable_lines"
    }

    public init() {}

    /// Merges `lines` (every task's, any order) for `manifest`, read from `manifestPath`.
    public init(manifest: JobManifest, manifestPath: String, lines: [ReportLine], unreadable: Int = 0) {
        unreadableLines = unreadable
        let mine = lines.filter { $0.job == manifest.id }
        let latest = ReportReading.latest(mine)
        var keys = [WorkItemKey]()
        var finishes = [WorkItemKey]()
        for input in manifest.inputs {
            if let split = input.split {
                keys += split.regions.indices.map { WorkItemKey(output: input.output, region: .index($0)) }
                finishes.append(WorkItemKey(output: input.output, region: .finish))
            } else {
                keys.append(WorkItemKey(output: input.output, region: nil))
            }
        }
        items = keys.count
        for key in keys {
            switch latest[key]?.status {
            case nil: pending += 1
            case .started?: running += 1
            case .failed?: failed += 1
            case .done?, .skipped?: done += 1
            }
        }
        var inByCodec = [String: Int](), outByCodec = [String: Int](), inByFormat = [String: Int](), outByFormat = [String: Int]()
        var tasks = Set<Int>()
        for key in keys + finishes {
            guard let line = latest[key] else { continue }
            bytesIn += line.bytesIn
            bytesOut += line.bytesOut
            objects += line.objects
            cpuS += line.cpuS
            wallS += line.wallS
            peakRss = max(peakRss, line.peakRss)
            if line.status.isComplete {
                inByCodec[line.codec, default: 0] += line.bytesIn
                outByCodec[line.codec, default: 0] += line.bytesOut
                inByFormat[line.format, default: 0] += line.bytesIn
                outByFormat[line.format, default: 0] += line.bytesOut
            }
            if line.status == .failed {
                failures.append(Failure(input: line.input, region: line.region, error: line.error ?? "", task: line.task))
                tasks.insert(line.task)
            }
        }
        blowupByCodec = Self.ratios(outByCodec, inByCodec)
        blowupByFormat = Self.ratios(outByFormat, inByFormat)
        let times = mine.compactMap { Self.date($0.time) }
        if let first = times.min(), let last = times.max() { spanS = last.timeIntervalSince(first) }
        throughputBytesPerS = spanS > 0 ? Double(bytesIn) / spanS : 0
        let tb = Double(bytesIn) / 1e12
        objectsPerTb = tb > 0 ? Double(objects) / tb : 0
        cpuHoursPerTb = tb > 0 ? cpuS / 3600 / tb : 0
        retryTasks = tasks.sorted()
        retry = failures.isEmpty ? "" : "tessera run \(Self.shellQuoted(manifestPath)) --retry-failed"
    }

    static func ratios(_ out: [String: Int], _ inp: [String: Int]) -> [String: Double] {
        var r = [String: Double]()
        for (k, i) in inp where i > 0 { r[k] = Double(out[k] ?? 0) / Double(i) }
        return r
    }

    static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    static func shellQuoted(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
