import Foundation
import Testing
@testable import Batch

@Suite struct PlanEstimateTests {
    func input(_ name: String, _ format: String, _ px: Int, task: Int? = 0, split: JobSplit? = nil) -> JobInput {
        JobInput(input: "/in/\(name)", output: name + ".ome.zarr", format: format, fileBytes: px / 2, pixelBytes: px, task: task, split: split)
    }

    @Test func samplesAreTheSmallestMiddleAndLargestOfEachKnownFormat() {
        let inputs = (1...9).map { input("t\($0)", "tiff", $0 * 100) } + [input("h", "hdf5", 5), input("bad", "unknown", 7)]
        let picked = EstimateSampling.pick(inputs, perFormat: 3).map(\.input)
        #expect(picked == ["/in/h", "/in/t1", "/in/t5", "/in/t9"])
        #expect(EstimateSampling.pick(Array(inputs.prefix(2)), perFormat: 3).count == 2)
    }

    @Test func predictionsScaleTheSampledRatesByEachInput() throws {
        let split = JobSplit(regionLevels: 1, regions: [JobRegion(origin: [0, 0], shape: [10, 30], task: 0),
                                                        JobRegion(origin: [10, 0], shape: [10, 10], task: 1)])
        let m = JobManifest(plannedBy: "t", created: "c", id: "i", output: "/o", reports: "/o/r", convert: [:], tasks: 2,
                            inputs: [input("a", "tiff", 1000, task: 1), input("b", "tiff", 4000, task: nil, split: split),
                                     input("c", "fits", 1000, task: 1), input("d", "unknown", 99, task: 0)])
        let sample = EstimateSample(input: "/in/a", format: "tiff", pixelBytes: 1000, whole: true, outputBytes: 560, metadataBytes: 60,
                                    dataObjects: 3, plannedObjects: 4, metadataObjects: 5, cpuSeconds: 3.6, wallSeconds: 1)
        let e = JobEstimator.predict(m, plannedObjects: [4, 16, 0, 0], samples: [sample], failed: [], cores: 2)
        // fits has no sample: all samples' rates. unknown adds nothing. Data bytes scale with
        // pixels (500 per 1000), metadata bytes come once per input (60: a stored statistics
        // file is as large for a sampled box as for the whole image).
        #expect(e.outputBytes == 0.5 * 6000 + 3 * 60)
        // metadata 5 per input; planned objects × 3/4 written, or 3 per 1000 bytes without a plan.
        #expect(e.objects == 3 * 5 + 3 + 12 + 3)
        // CPU 3.6 ms per byte: task 0 has 3/4 of b, task 1 a, c and 1/4 of b.
        #expect(abs(e.cpuHours - 21.6 / 3600) < 1e-12)
        #expect(abs(e.wallHours - 10.8 / 2 / 3600) < 1e-12)
        #expect(e.pixelBytes == 6099 && e.inputBytes == 3049)
    }
}
