import Foundation
import Testing
@testable import Batch

@Suite struct RunManifestLoadingTests {
    let folder: String = {
        let f = NSTemporaryDirectory() + "tessera-manifest-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }()

    func write(_ text: String) -> String {
        let path = folder + "/job-\(UUID().uuidString).json"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func manifest(_ inputs: [JobInput], tasks: Int = 2) -> JobManifest {
        JobManifest(plannedBy: "t", created: "2026-11-29T00:00:00Z", id: "j", output: "/out", reports: "/out/.tessera-job/j",
                    convert: [:], tasks: tasks, inputs: inputs)
    }

    func save(_ m: JobManifest) throws -> String { write(String(decoding: try JSONEncoder().encode(m), as: UTF8.self)) }

    func refusal(_ path: String) -> String {
        do {
            _ = try JobManifest.load(path)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    func input(_ output: String, task: Int? = 0, split: JobSplit? = nil) -> JobInput {
        JobInput(input: "/in/x.tif", output: output, format: "tiff", fileBytes: 1, pixelBytes: 1, task: task, split: split)
    }

    @Test func aGoodManifestLoads() throws {
        let m = manifest([input("a.ome.zarr"), input("b/c.ome.zarr", task: 1)])
        #expect(try JobManifest.load(try save(m)) == m)
    }

    @Test func unreadableOrForeignFilesAreNamed() {
        let missing = folder + "/nope.json"
        #expect(refusal(missing).contains("'\(missing)'"))
        #expect(refusal(missing).contains("cannot be read"))
        #expect(refusal(write("{ not json")).contains("is not JSON"))
        #expect(refusal(write("{\"a\": 1}")).contains("not a Tessera job manifest"))
        #expect(refusal(folder).contains("directory"))
    }

    @Test func aNewerSchemaIsRefused() {
        let text = refusal(write("{\"tessera_job\": 2, \"whatever\": true}"))
        #expect(text.contains("written by a newer Tessera: job schema 2, this one reads 1"))
    }

    @Test func inconsistentManifestsAreRefused() throws {
        let cases: [(JobManifest, String)] = [
            (manifest([input("a", task: 2)]), "task 2 is outside"),
            (manifest([input("/abs/a")]), "must be relative"),
            (manifest([input("../up")]), "must stay beneath"),
            (manifest([input("a/../../b")]), "must stay beneath"),
            (manifest([input("a"), input("a", task: 1)]), "also the output of another input"),
            (manifest([input("a", task: nil)]), "neither a task nor a split"),
            (manifest([input("a", task: nil, split: JobSplit(regionLevels: 1, regions: [
                JobRegion(origin: [0, 0], shape: [4, 4], task: 0), JobRegion(origin: [0, 0, 0], shape: [4, 4, 4], task: 1)]))]),
             "the image's rank"),
            (manifest([input("a", task: nil, split: JobSplit(regionLevels: 1, regions: [JobRegion(origin: [0], shape: [4], task: 5)]))]),
             "task 5 is outside"),
            (manifest([input("a")], tasks: 0), "\"tasks\" must be at least 1"),
        ]
        for (m, expected) in cases {
            let text = refusal(try save(m))
            #expect(text.contains(expected), "\(text) should say \(expected)")
        }
    }
}
