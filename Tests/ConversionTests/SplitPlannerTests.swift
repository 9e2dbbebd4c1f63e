@testable import Conversion
import ImageSources
import Testing
import ZarrCore

@Suite struct SplitPlannerTests {
    static func slide(_ side: Int = 20000) -> ImageDescription {
        ImageDescription(name: "slide", axes: [ImageAxis(name: "y"), ImageAxis(name: "x")], shape: [side, side], dataType: .uint16)
    }

    /// Regions tile the image exactly once, and every cut is a multiple of each region
    /// level's object scaled to level 0 (or the edge).
    func checkTiling(_ d: ImageDescription, _ options: ConvertOptions, _ regions: [Region], _ regionLevels: Int) throws {
        #expect(regions.map(\.elementCount).reduce(0, +) == d.shape.reduce(1, *))
        for a in regions.indices { for b in regions.indices where a < b { #expect(regions[a].intersection(regions[b]) == nil) } }
        let plan = try ImagePlan(d, options: options)
        for r in regions { for level in 0..<regionLevels { _ = try plan.levelRegion(r, level: level) } }
    }

    /// The figures the report asks for: a 20000² uint16 slide, default options.
    @Test(arguments: [4, 16, 64]) func slideOf20000Squared(parts: Int) throws {
        let (regions, levels) = try SplitPlanner.regions(for: Self.slide(), options: ConvertOptions(), parts: parts)
        print("20000x20000 uint16, \(parts) parts: regionLevels \(levels), \(regions.count) regions, largest "
              + "\((regions.map(\.elementCount).max()! * 2) >> 20) MiB, smallest \((regions.map(\.elementCount).min()! * 2) >> 20) MiB")
        #expect(levels >= 1)
        #expect(Double(regions.count) >= Double(parts) * 0.75 && Double(regions.count) <= Double(parts) * 1.25)
        try checkTiling(Self.slide(), ConvertOptions(), regions, levels)
    }

    @Test func anImageOfOneObjectIsNotCut() throws {
        let (regions, levels) = try SplitPlanner.regions(for: Self.slide(1500), options: ConvertOptions(), parts: 8)
        #expect(regions == [Region(shape: [1500, 1500])])
        #expect(levels == (try ImagePlan(Self.slide(1500), options: ConvertOptions())).levels.count)
        var existing = ConvertOptions()
        existing.useExistingLevels = true
        #expect(try SplitPlanner.regions(for: Self.slide(), options: existing, parts: 8).regions.count == 1)
    }

    @Test func volumesAreCutAlongZToo() throws {
        let d = ImageDescription(name: "v", axes: ["c", "z", "y", "x"].map { ImageAxis(name: $0) }, shape: [2, 512, 512, 512], dataType: .uint8)
        let (regions, levels) = try SplitPlanner.regions(for: d, options: ConvertOptions(), parts: 8)
        #expect(regions.count == 8)
        #expect(Set(regions.map { $0.origin[1] }).count == 2) // z cut in two
        try checkTiling(d, ConvertOptions(), regions, levels)
    }
}
