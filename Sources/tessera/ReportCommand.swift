import ArgumentParser
import Batch
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Merge a job's task reports: progress, costs per TB, storage blow-up, failures.",
        discussion: "Each work item counts by its latest report line; totals are the sums over those lines. Docs/cluster.md."
    )

    @Argument(help: "The job manifest (job.json).") var manifest: String
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        try reportingErrors {
            let job = try JobManifest.load(manifest)
            let (lines, unreadable) = try ReportReading.lines(at: job.reports)
            let report = JobReport(manifest: job, manifestPath: manifest, lines: lines, unreadable: unreadable)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.text)
            }
        }
    }
}
