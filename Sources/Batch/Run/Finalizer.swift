import Conversion
import Foundation
import Storage
import ZarrCore

/// `tessera finalize`: finishes split images whose regions are all done but whose
/// finishing step never ran (its last task died after its regions). Idempotent: a
/// finished image is left alone, one with regions missing waits.
public struct Finalizer: Sendable {
    public let manifest: JobManifest
    public let options: ConvertOptions
    public let report: ReportLog?
    public let runName: String
    public let log: @Sendable (String) -> Void

    public struct Outcome: Sendable {
        public var finished = 0, already = 0, waiting = 0
    }

    public init(manifest: JobManifest, options: ConvertOptions, report: ReportLog?, run: String, log: @escaping @Sendable (String) -> Void) {
        self.manifest = manifest
        self.options = options
        self.report = report
        self.runName = run
        self.log = log
    }

    public func run() throws -> Outcome {
        var outcome = Outcome()
        for input in manifest.inputs {
            guard let split = input.split else { continue }
            let destination = joinLocation(manifest.output, input.output)
            let account = CPUAccount(), start = Date()
            let summary = try account.charge { () throws -> SplitStepSummary? in
                try LocalInput.with(input.input) { path in
                    try RegionWork.conversion(input, path: path, destination: destination, options: options, log: log)
                        .finish(task: nil, force: true)
                }
            }
            guard let summary else {
                outcome.waiting += 1
                continue
            }
            guard summary.status == .done else {
                outcome.already += 1
                continue
            }
            outcome.finished += 1
            var line = ReportLine(job: manifest.id, task: split.regions.last?.task ?? 0, run: runName, time: ReportLine.now(), input: input.input,
                                  output: input.output, region: .finish, status: .done, format: input.format, codec: options.codec?.rawValue ?? "default")
            (line.bytesOut, line.objects) = (summary.finishBytes, summary.finishWritten)
            (line.wallS, line.cpuS, line.peakRss) = (Date().timeIntervalSince(start), account.seconds, TaskRunner.peakRSS())
            try report?.append(line)
        }
        return outcome
    }
}
