import Foundation
import Testing
import TestSupport
@testable import Batch

func sized(_ name: String, _ bytes: Int, images: Int = 1) -> SizedInput {
    SizedInput(input: PlanInput(input: "/in/\(name)", origin: name), format: "tiff", fileBytes: bytes, pixelBytes: bytes, images: images, error: nil)
}

@Suite struct PlanBalancingTests {
    @Test func hundredThousandRandomSizesLandWithinTenPercentOfTheMean() {
        var rng = SplitMix64(seed: 16)
        let weights = (0..<100_000).map { _ in Int.random(in: 1_000...5_000_000, using: &rng) }
        let tasks = WorkBalancer.assign(weights, tasks: 64)
        let loads = WorkBalancer.loads(weights, tasks: tasks, count: 64)
        let mean = Double(weights.reduce(0, +)) / 64
        for load in loads { #expect(abs(Double(load) - mean) / mean < 0.10) }
        // LPT does far better than 10 % here: within one small item of the mean.
        #expect(Double(loads.max()! - loads.min()!) / mean < 0.01)
    }

    @Test func sameWeightsGiveTheSameTasksAndTiesGoToTheLowerTask() {
        var rng = SplitMix64(seed: 7)
        let weights = (0..<5_000).map { _ in Int.random(in: 1...1_000, using: &rng) }
        #expect(WorkBalancer.assign(weights, tasks: 13) == WorkBalancer.assign(weights, tasks: 13))
        #expect(WorkBalancer.assign([5, 5, 5, 5], tasks: 2) == [0, 1, 0, 1])
        #expect(WorkBalancer.assign([], tasks: 3) == [])
        #expect(WorkBalancer.assign([1, 2, 3], tasks: 0) == [0, 0, 0]) // never a crash
    }

    @Test func anImageAboveTheFairShareIsSplitAndItsRegionsSpread() throws {
        // 12 small inputs of 10 and one of 1000; 4 tasks: fair share 282.5 → 4 parts.
        let inputs = (0..<12).map { sized("s\($0).tif", 10) } + [sized("huge.tif", 1000)]
        var asked = [Int]()
        let (planned, loads) = try JobPlanner.balance(inputs, names: inputs.map { $0.input.origin }, tasks: 4) { s, parts in
            asked.append(parts)
            let rows = 1000 / parts
            let regions = (0..<parts).map { JobRegion(origin: [$0 * rows, 0], shape: [rows, 1], task: -1) }
            return (JobSplit(regionLevels: 2, regions: regions), regions.map { $0.shape[0] })
        }
        #expect(asked == [4])
        let huge = try #require(planned.last)
        #expect(huge.task == nil)
        let split = try #require(huge.split)
        #expect(split.regionLevels == 2)
        #expect(Set(split.regions.map(\.task)) == [0, 1, 2, 3])
        #expect(planned.dropLast().allSatisfy { $0.task != nil && $0.split == nil })
        #expect(loads.reduce(0, +) == 1120)
        #expect(loads.max()! - loads.min()! <= 10)
    }

    @Test func multiImageFilesUnopenableInputsAndSingleTasksAreNeverSplit() throws {
        var broken = sized("bad.tif", 900)
        broken.error = "not a TIFF"
        let inputs = [sized("series.tif", 900, images: 3), broken, sized("a.tif", 10)]
        var calls = 0
        let (planned, _) = try JobPlanner.balance(inputs, names: ["a", "b", "c"], tasks: 4) { _, _ in calls += 1; return nil }
        #expect(calls == 0)
        #expect(planned.allSatisfy { $0.split == nil && $0.task != nil })
        let (single, _) = try JobPlanner.balance([sized("big.tif", 900)], names: ["x"], tasks: 1) { _, _ in calls += 1; return nil }
        #expect(calls == 0 && single[0].task == 0)
    }
}
