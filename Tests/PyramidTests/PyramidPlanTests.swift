@testable import Pyramid
import Testing

/// `PyramidPlanner`: how many levels, and which axes halve at each.
@Suite struct PyramidPlanTests {
    @Test func levelsUntilYAndXFitOneChunk() {
        let levels = PyramidPlanner.plan(shape: [3, 1000, 600], axisNames: ["c", "y", "x"], spacing: [1, 1, 1], chunk: [1, 256, 256], z: .auto)
        #expect(levels.map(\.shape) == [[3, 1000, 600], [3, 500, 300], [3, 250, 150]])
        #expect(levels[2].cumulative == [1, 4, 4])
    }

    @Test func zFollowsSpacing() {
        // z spacing 5, y/x 1: z halves from the step where 5 < 2 × (y/x spacing 4), i.e. into level 3.
        let aniso = PyramidPlanner.plan(shape: [64, 4096, 4096], axisNames: ["z", "y", "x"], spacing: [5, 1, 1], chunk: [64, 128, 128], z: .auto)
        #expect(aniso.map { $0.factors[0] } == [1, 1, 1, 2, 2, 2])
        let iso = PyramidPlanner.plan(shape: [64, 512, 512], axisNames: ["z", "y", "x"], spacing: [1, 1, 1], chunk: [64, 256, 256], z: .auto)
        #expect(iso[1].shape == [32, 256, 256])
        let never = PyramidPlanner.plan(shape: [64, 512, 512], axisNames: ["z", "y", "x"], spacing: [1, 1, 1], chunk: [64, 256, 256], z: .never)
        #expect(never[1].shape == [64, 256, 256])
    }
}
