import ArgumentParser
import Batch
import Foundation
import ZarrCore

struct FinalizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finalize",
        abstract: "Finish every split image whose regions are all done (its upper levels and NGFF metadata).",
        discussion: "Safe to run any number of times: finished images are left alone. Docs/cluster.md."
    )

    @Argument(help: "The job manifest (job.json).") var manifest: String
    @OptionGroup var machine: MachineFlags

    func run() throws {
        try reportingErrors {
            let job = try JobManifest.load(manifest)
            let options = try job.convertOptions(on: machine)
            if !job.output.contains("://") { try ReportLog.makeWritableFolder(job.output, what: "output root") }
            let run = ReportLog.runName()
            let report = try ReportLog(location: job.reports, run: run)
            let outcome = try Finalizer(manifest: job, options: options, report: report, run: run, log: logLine).run()
            logLine("finalize: \(outcome.finished) image(s) finished now, \(outcome.already) already finished, "
                    + "\(outcome.waiting) waiting for regions")
        }
    }
}
