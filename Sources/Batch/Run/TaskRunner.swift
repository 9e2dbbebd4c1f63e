import Conversion
import Foundation
import Storage
import Synchronization
import ZarrCore

/// How a task's run ended.
public struct TaskOutcome: Sendable {
    public var done = 0
    public var skipped = 0
    public var failed = 0
    public var items: Int { done + skipped + failed }
}

/// `tessera run`: converts a list of work items, writing a `started` line before each and
/// an ending line after. A failed item is reported and the others go on. Regions of split
/// images run one after another with every worker; whole inputs run side by side (like
/// `tessera convert` of a folder), each with its share of workers and memory.
public struct TaskRunner: Sendable {
    public let manifest: JobManifest
    public let options: ConvertOptions
    public let report: ReportLog
    public let run: String
    public let log: @Sendable (String) -> Void
    /// Each item's latest `done` line from before, so a `skipped` line can repeat what its
    /// output holds (bytes out, objects) and the report's totals stay whole after a rerun.
    public let previous: [WorkItemKey: ReportLine]
    /// Told about each whole input converted (the CLI's catalogue writer); split images'
    /// regions are not observed yet.
    public var observer: (any ConversionObserver)?

    public init(manifest: JobManifest, options: ConvertOptions, report: ReportLog, run: String,
                previous: [WorkItemKey: ReportLine] = [:], log: @escaping @Sendable (String) -> Void) {
        self.manifest = manifest
        self.options = options
        self.report = report
        self.run = run
        self.previous = previous
        self.log = log
    }

    public func run(_ items: [WorkItem]) -> TaskOutcome {
        let outcome = Mutex(TaskOutcome())
        let regions = items.filter { $0.region != nil }, wholes = items.filter { $0.region == nil }
        for item in regions { record(perform(item, options: options), into: outcome) }
        let width = max(1, min(options.jobs, wholes.count))
        var share = options
        share.jobs = max(1, options.jobs / width)
        share.memoryLimit = max(1 << 20, options.memoryLimit / width)
        share.progressBars = false
        let perItem = share
        // perform never throws: every failure becomes a report line.
        try? parallelFor(wholes.count, width: width) { i in
            self.record(self.perform(wholes[i], options: perItem), into: outcome)
        }
        return outcome.withLock { $0 }
    }

    private func record(_ status: WorkStatus, into outcome: borrowing Mutex<TaskOutcome>) {
        outcome.withLock {
            switch status {
            case .done: $0.done += 1
            case .skipped: $0.skipped += 1
            case .failed, .started: $0.failed += 1
            }
        }
    }

    /// One item: its `started` line, the work charged to its own CPU account, its ending line.
    func perform(_ item: WorkItem, options: ConvertOptions) -> WorkStatus {
        let input = manifest.inputs[item.input]
        let task = item.task(in: manifest)
        var line = ReportLine(job: manifest.id, task: task, run: run, time: ReportLine.now(), input: input.input, output: input.output,
                              region: item.region.map(ReportRegion.index), status: .started, format: input.format, codec: options.codec?.rawValue ?? "default")
        line.peakRss = Self.peakRSS()
        append(line)
        // Only the ending line carries the item's figures: a report sums latest lines.
        line.bytesIn = item.bytesIn(in: manifest)
        let account = CPUAccount()
        let start = Date()
        let destination = joinLocation(manifest.output, input.output)
        var finish: (bytesOut: Int, objects: Int)?
        do {
            let result = try account.charge { () throws -> WorkResult in
                switch item {
                case .whole:
                    let c = try WholeInput.convert(input.input, into: destination, options: options, observer: observer, log: log)
                    return WorkResult(status: c.status, bytesOut: c.outputBytes, objects: c.written)
                case let .region(k, r):
                    return try RegionWork.convert(manifest.inputs[k], region: r, task: task, destination: destination,
                                                  options: options, log: log)
                }
            }
            line.status = result.status
            line.bytesOut = result.bytesOut
            line.objects = result.objects
            if result.status == .skipped, let before = previous[line.item] {
                line.bytesOut = before.bytesOut
                line.objects = before.objects
            }
            finish = result.finish
        } catch {
            line.status = .failed
            line.error = Self.oneLine(String(describing: error))
            log("tessera: error: \(item.region.map { "region \($0) of " } ?? "")\(line.error ?? "")")
        }
        line.time = ReportLine.now()
        line.wallS = Date().timeIntervalSince(start)
        line.cpuS = account.seconds
        line.peakRss = Self.peakRSS()
        append(line)
        if let finish {
            // The finishing step of the split image this region completed: its own line,
            // its objects; its time is in the region's line, which included it.
            var f = line
            f.region = .finish
            (f.bytesIn, f.bytesOut, f.objects, f.wallS, f.cpuS) = (0, finish.bytesOut, finish.objects, 0, 0)
            append(f)
        }
        return line.status
    }

    private func append(_ line: ReportLine) {
        do { try report.append(line) } catch { log("tessera: warning: \(error)") }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    /// The process's peak resident set so far, in bytes.
    static func peakRSS() -> Int {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
    }
}

/// What converting one item wrote.
struct WorkResult {
    var status: WorkStatus
    var bytesOut: Int
    var objects: Int
    /// When this region's task finished its split image: what the finishing wrote.
    var finish: (bytesOut: Int, objects: Int)? = nil
}
