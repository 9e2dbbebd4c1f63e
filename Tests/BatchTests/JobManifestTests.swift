import Foundation
import Testing
@testable import Batch

@Suite struct JobManifestTests {
    @Test func roundTripsThroughJSONWithSnakeCaseKeys() throws {
        let m = JobManifest(plannedBy: "tessera 1", created: "2026-11-29T00:00:00Z", id: "j1", output: "/out", reports: "/out/.tessera-job/j1",
                            convert: ["codec": "zstd"], tasks: 2,
                            inputs: [JobInput(input: "/in/a.tif", output: "a.ome.zarr", format: "tiff", fileBytes: 10, pixelBytes: 20, task: 1),
                                     JobInput(input: "/in/b.tif", output: "b.ome.zarr", format: "tiff", fileBytes: 10, pixelBytes: 20,
                                              split: JobSplit(regionLevels: 1, regions: [JobRegion(origin: [0, 0], shape: [2, 2], task: 0)]))])
        let data = try JSONEncoder().encode(m)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"tessera_job\":1"))
        #expect(text.contains("\"region_levels\":1"))
        #expect(try JSONDecoder().decode(JobManifest.self, from: data) == m)
    }
}
