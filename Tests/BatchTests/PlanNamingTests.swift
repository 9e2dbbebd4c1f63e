import Foundation
import Testing
import TestSupport
@testable import Batch

@Suite struct PlanNamingTests {
    func names(_ paths: [String]) throws -> [String: String] {
        let inputs = paths.map { PlanInput(input: $0, origin: $0) }
        return Dictionary(uniqueKeysWithValues: zip(paths, try OutputNaming.names(for: inputs)))
    }

    @Test func sameFileNameInTwoFoldersKeepsTheFolders() throws {
        #expect(try names(["/d/a/x.tif", "/d/b/x.tif"]) == ["/d/a/x.tif": "a/x.ome.zarr", "/d/b/x.tif": "b/x.ome.zarr"])
        #expect(try names(["/d/x.ome.tif"]) == ["/d/x.ome.tif": "x.ome.zarr"])
    }

    @Test func namesThatWouldMeetKeepTheirWholeFileName() throws {
        #expect(try names(["/d/x.tif", "/d/x.tiff", "/d/y.fits"])
                == ["/d/x.tif": "x.tif.ome.zarr", "/d/x.tiff": "x.tiff.ome.zarr", "/d/y.fits": "y.ome.zarr"])
    }

    @Test func namesDoNotDependOnTheOrderInputsAreGiven() throws {
        let paths = ["/d/a/x.tif", "/d/b/x.tif", "/d/b/x.tiff", "/d/c/deep/y.h5", "/d/z.fits"]
        let reference = try names(paths)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<10 { #expect(try names(paths.shuffled(using: &rng)) == reference) }
    }

    @Test func s3InputsAreNamedFromTheirCommonPrefix() throws {
        #expect(try names(["s3://b/raw/p1/a.tif", "s3://b/raw/p2/a.tif"]) == ["s3://b/raw/p1/a.tif": "p1/a.ome.zarr", "s3://b/raw/p2/a.tif": "p2/a.ome.zarr"])
        // Local and S3 inputs are named from their own common folders.
        #expect(try names(["s3://b/raw/a.tif", "/d/e/b.tif"]) == ["s3://b/raw/a.tif": "a.ome.zarr", "/d/e/b.tif": "b.ome.zarr"])
    }

    @Test func hdf5DatasetsOfOneFileGetTheirOwnNames() throws {
        let folder = NSTemporaryDirectory() + "plan-naming-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/scan.h5"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        #expect(try names([file + ":/entry/a", file + ":/entry/b"])
                == [file + ":/entry/a": "scan-entry-a.ome.zarr", file + ":/entry/b": "scan-entry-b.ome.zarr"])
    }

    @Test func aRemainingCollisionIsAnErrorNamingBothInputs() throws {
        let inputs = [PlanInput(input: "/d/x.tif", origin: "/d/x.tif"),
                      PlanInput(input: "/e/y.tif", output: "x.ome.zarr", origin: "list.csv:2")]
        #expect(throws: PlanError.collision(output: "x.ome.zarr", inputs: ["/d/x.tif", "/e/y.tif' ('list.csv:2"])) {
            try OutputNaming.names(for: inputs)
        }
    }

    @Test func anOutputInsideAnotherIsRefused() throws {
        let inputs = [PlanInput(input: "/d/x.tif", output: "a", origin: "l.csv:1"),
                      PlanInput(input: "/d/y.tif", output: "a/b.ome.zarr", origin: "l.csv:2")]
        #expect(throws: PlanError.self) { try OutputNaming.names(for: inputs) }
    }
}
