import ArgumentParser
import Batch
import Conversion
import Foundation
import ZarrCore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Convert one task's share of a job planned by `tessera plan`.",
        discussion: """
        The task index is --task, else the first of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX \
        (Kubernetes), AWS_BATCH_JOB_ARRAY_INDEX, BATCH_TASK_INDEX (Google Batch). Outputs that \
        are complete are skipped, started ones resumed; each item's start and end are \
        appended to the job's reports. Docs/cluster.md.
        """
    )

    @Argument(help: "The job manifest (job.json).") var manifest: String
    @Option(help: "The task index (default: the batch engine's array index variable).") var task: Int?
    @OptionGroup var machine: MachineFlags
    @Flag(name: .customLong("retry-failed"), help: "Run every item whose latest report says it failed (any task; only task --task's when given).")
    var retryFailed = false
    @OptionGroup var catalog: CatalogFlags

    func run() async throws {
        try await reportingErrorsAsync {
            let job = try JobManifest.load(manifest)
            let options = try job.convertOptions(on: machine)
            let items: [WorkItem], previous: [ReportLine], task: Int?
            if retryFailed {
                task = try self.task.map { try TaskIndex.resolve(option: $0, environment: [:], tasks: job.tasks) }
                let lines = try ReportReading.lines(at: job.reports).lines.filter { $0.job == job.id }
                items = WorkItem.failed(in: job, latest: ReportReading.latest(lines)).filter { task == nil || $0.task(in: job) == task }
                previous = lines
            } else {
                task = try TaskIndex.resolve(option: self.task, environment: ProcessInfo.processInfo.environment, tasks: job.tasks)
                items = WorkItem.share(of: task ?? 0, in: job)
                previous = try ReportReading.lines(at: job.reports, task: task).lines.filter { $0.job == job.id }
            }
            // Refused before any conversion: an output root or reports folder this user
            // cannot write.
            if !job.output.contains("://") { try ReportLog.makeWritableFolder(job.output, what: "output root") }
            let run = ReportLog.runName()
            let report = try ReportLog(location: job.reports, run: run)
            let done = ReportReading.latest(previous.filter { $0.status == .done })
            var runner = TaskRunner(manifest: job, options: options, report: report, run: run, previous: done, log: logLine)
            let recorder = try await catalog.recorder()
            runner.observer = recorder
            let start = Date()
            let outcome = try await runOffThePool { [runner] in runner.run(items) }
            await recorder?.close()
            let which = retryFailed ? "retry of failed items" + (task.map { " of task \($0)" } ?? "") : "task \(task ?? 0)"
            logLine("\(which): \(outcome.items) item(s): \(outcome.done) done, \(outcome.skipped) skipped (complete), "
                    + "\(outcome.failed) failed, " + String(format: "%.2f s", Date().timeIntervalSince(start)))
            if outcome.failed > 0 {
                throw UsageError("\(outcome.failed) of \(outcome.items) items failed (each reported above and in \(job.reports)); "
                                 + "retry them with: tessera run \(manifest) --retry-failed")
            }
        }
    }
}
