import Conversion
import Foundation
import Testing
@testable import Batch

@Suite struct ReportMergeTests {
    let manifest = JobManifest(
        plannedBy: "t", created: "2026-11-29T00:00:00Z", id: "j", output: "/out", reports: "/r", convert: [:], tasks: 2,
        inputs: [
            JobInput(input: "/in/a.tif", output: "a", format: "tiff", fileBytes: 100, pixelBytes: 200, task: 0),
            JobInput(input: "/in/b.h5", output: "b", format: "hdf5", fileBytes: 50, pixelBytes: 50, task: 1),
            JobInput(input: "/in/c.fits", output: "c", format: "fits", fileBytes: 10, pixelBytes: 10, task: 1),
            JobInput(input: "/in/d.tif", output: "d", format: "tiff", fileBytes: 7, pixelBytes: 7, task: 0),
            JobInput(input: "/in/big.tif", output: "big", format: "tiff", fileBytes: 1001, pixelBytes: 4000,
                     split: JobSplit(regionLevels: 1, regions: [JobRegion(origin: [0, 0], shape: [10, 30], task: 0),
                                                                JobRegion(origin: [10, 0], shape: [10, 30], task: 1),
                                                                JobRegion(origin: [20, 0], shape: [10, 30], task: 1)])),
        ])

    func line(_ output: String, _ status: WorkStatus, _ second: Int, task: Int = 0, region: ReportRegion? = nil,
              bytesIn: Int = 0, bytesOut: Int = 0, objects: Int = 0, cpu: Double = 0, codec: String = "blosc-zstd", format: String = "tiff") -> ReportLine {
        var l = ReportLine(job: "j", task: task, run: "h-1-1", time: String(format: "2026-11-29T00:00:%02d.000Z", second), input: "/in/" + output,
                           output: output, region: region, status: status, format: format, codec: codec)
        l.bytesIn = bytesIn
        l.bytesOut = bytesOut
        l.objects = objects
        l.cpuS = cpu
        l.wallS = cpu
        if status == .failed { l.error = "broken" }
        return l
    }

    @Test func countsAndTotalsComeFromEachItemsLatestLine() {
        let lines = [
            line("a", .started, 1), line("a", .failed, 2, bytesIn: 100, cpu: 1),
            line("a", .started, 10), line("a", .done, 12, bytesIn: 100, bytesOut: 300, objects: 3, cpu: 4),  // rerun: done wins
            line("b", .started, 3, task: 1), line("b", .done, 4, task: 1, bytesIn: 50, bytesOut: 20, objects: 2, cpu: 1, format: "hdf5"),
            line("b", .started, 20, task: 1), line("b", .skipped, 20, task: 1, bytesIn: 50, bytesOut: 20, objects: 2, cpu: 0.5, format: "hdf5"),
            line("c", .started, 5, task: 1), line("c", .failed, 6, task: 1, bytesIn: 10, cpu: 0.25, format: "fits"),
            line("big", .started, 7, region: .index(0)), line("big", .done, 8, region: .index(0), bytesIn: 333, bytesOut: 100, objects: 5, cpu: 2),
            line("big", .started, 9, task: 1, region: .index(1)),
            // Another job's lines in the same folder never count.
            ReportLine(job: "other", task: 0, run: "x", time: "2026-11-29T00:00:30.000Z", input: "/in/d.tif", output: "d",
                       region: nil, status: .done, format: "tiff", codec: "zstd"),
        ]
        let r = JobReport(manifest: manifest, manifestPath: "my job.json", lines: lines)
        #expect(r.items == 7)
        #expect((r.done, r.failed, r.running, r.pending) == (3, 1, 1, 2))
        // The sums over the latest lines: a(done), b(skipped), c(failed), big 0(done), big 1(started).
        #expect(r.bytesIn == 100 + 50 + 10 + 333)
        #expect(r.bytesOut == 300 + 20 + 0 + 100)
        #expect(r.objects == 3 + 2 + 5)
        #expect(abs(r.cpuS - (4 + 0.5 + 0.25 + 2)) < 1e-9)
        #expect(abs(r.spanS - 19) < 1e-6)
        #expect(r.failures == [JobReport.Failure(input: "/in/c", region: nil, error: "broken", task: 1)])
        #expect(r.retry == "tessera run 'my job.json' --retry-failed")
        #expect(r.retryTasks == [1])
        #expect(abs((r.blowupByCodec["blosc-zstd"] ?? 0) - 420.0 / 483.0) < 1e-9)
        #expect(abs((r.blowupByFormat["hdf5"] ?? 0) - 20.0 / 50.0) < 1e-9)
        #expect(abs(r.objectsPerTb - 10 / (493 / 1e12)) < 1)
        #expect(r.text.contains("/in/c [task 1]: broken"))
    }

    @Test func jsonHasTheContractKeys() throws {
        let r = JobReport(manifest: manifest, manifestPath: "job.json", lines: [])
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(r)) as? [String: Any]
        for key in ["done", "failed", "running", "pending", "items", "bytes_in", "bytes_out", "objects", "cpu_s", "wall_s",
                    "objects_per_tb", "cpu_hours_per_tb", "blowup_by_codec", "failures", "retry"] {
            #expect(object?[key] != nil, "missing \(key)")
        }
        #expect(r.pending == 7 && r.retry.isEmpty)
    }

    @Test func regionBytesInAddUpToTheFile() {
        let shares = (0..<3).map { WorkItem.region(input: 4, region: $0).bytesIn(in: manifest) }
        #expect(shares == [333, 333, 335])
        #expect(shares.reduce(0, +) == 1001)
    }

    @Test func aTaskShareHoldsItsWholeInputsAndRegions() {
        #expect(WorkItem.share(of: 0, in: manifest) == [.whole(input: 0), .whole(input: 3), .region(input: 4, region: 0)])
        #expect(WorkItem.share(of: 1, in: manifest) == [.whole(input: 1), .whole(input: 2), .region(input: 4, region: 1), .region(input: 4, region: 2)])
    }
}
