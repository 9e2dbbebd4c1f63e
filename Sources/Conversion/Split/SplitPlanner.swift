import Foundation
import ImageSources
import ZarrCore

/// Cuts an image too large for one task into regions of level 0 that different tasks
/// convert side by side (`SplitImageConversion`).
///
/// A region's cuts lie on multiples of every level's storage object (shard, or chunk
/// without sharding) scaled back to level 0, for each level below `regionLevels`: then a
/// region task writes whole objects of those levels and no two regions ever write one
/// object. The levels from `regionLevels` up are built once, by the task that finishes.
/// More region levels mean less left for that finishing task, but coarser cuts: the
/// planner keeps as many as still allow about `parts` regions of roughly equal size.
public enum SplitPlanner {
    /// A region may hold at most this much more than the average of its image's regions.
    static let maxImbalance = 1.5
    /// The number of regions may be this far (as a ratio) from `parts`.
    static let countTolerance = 0.25

    /// Level-0 regions for `parts` pieces of roughly equal pixel bytes, aligned to the
    /// objects (shards or chunks) of levels 0..<regionLevels; regionLevels >= 1.
    /// One region covering the image (and every level) when it cannot be cut.
    public static func regions(for image: ImageDescription, options: ConvertOptions, parts: Int) throws -> (regions: [Region], regionLevels: Int) {
        let plan = try ImagePlan(image, options: options)
        let whole = (regions: [Region(shape: image.shape)], regionLevels: plan.levels.count)
        // Stored levels are copied page by page from the file, not built from level 0.
        guard parts > 1, !options.useExistingLevels else { return whole }
        let spatial = image.axisNames.indices.filter { ["z", "y", "x"].contains(image.axisNames[$0]) && image.shape[$0] > 1 }
        var fallback: (cuts: [[Int]], levels: Int, score: Double)?
        // Deepest first: the first number of region levels that cuts well is kept.
        for levels in stride(from: plan.levels.count - 1, through: 1, by: -1) {
            let align = spatial.map { a in (0..<levels).map { plan.arrays[$0].chunkShape[a] * plan.levels[$0].cumulative[a] }.reduce(1, ImagePlan.lcm) }
            guard let best = bestCuts(lengths: spatial.map { image.shape[$0] }, align: align, parts: parts) else { continue }
            let count = best.cuts.map { $0.count - 1 }.reduce(1, *)
            let countOK = abs(Double(count) / Double(parts) - 1) <= countTolerance
            if countOK && best.imbalance <= maxImbalance { return (regions(image.shape, spatial: spatial, cuts: best.cuts), levels) }
            if fallback == nil || best.score < fallback!.score { fallback = (best.cuts, levels, best.score) }
        }
        guard let fallback else { return whole }
        return (regions(image.shape, spatial: spatial, cuts: fallback.cuts), fallback.levels)
    }

    /// The regions of a grid of cuts (per spatial axis, boundaries from 0 to the length), in C order.
    static func regions(_ shape: [Int], spatial: [Int], cuts: [[Int]]) -> [Region] {
        allIndices(cuts.map { $0.count - 1 }).map { cell in
            var r = Region(shape: shape)
            for (k, a) in spatial.enumerated() {
                r.origin[a] = cuts[k][cell[k]]
                r.shape[a] = cuts[k][cell[k] + 1] - cuts[k][cell[k]]
            }
            return r
        }
    }

    /// Per axis, how many pieces and where: of the pieces counts with a product near
    /// `parts`, the one scoring best (near `parts` regions, near-equal sizes). Nil if the
    /// axes allow only one region.
    static func bestCuts(lengths: [Int], align: [Int], parts: Int) -> (cuts: [[Int]], imbalance: Double, score: Double)? {
        let limit = Int((Double(parts) * (1 + countTolerance)).rounded(.down))
        let maxPieces = zip(lengths, align).map { min((($0 + $1 - 1) / $1), max(1, limit)) }
        var best: (cuts: [[Int]], imbalance: Double, score: Double)?
        var counts = [Int](repeating: 1, count: lengths.count)
        func visit(_ axis: Int, _ product: Int) {
            if axis == lengths.count {
                guard product > 1 else { return }
                var cuts = [[Int]]()
                var largest = 1.0
                for k in lengths.indices {
                    guard let c = axisCuts(length: lengths[k], align: align[k], pieces: counts[k]) else { return }
                    cuts.append(c)
                    largest *= Double(zip(c.dropFirst(), c).map { $0 - $1 }.max()!)
                }
                let mean = lengths.map(Double.init).reduce(1, *) / Double(product)
                let imbalance = largest / mean
                let score = abs(log(Double(product) / Double(parts))) + log(imbalance)
                if best == nil || score < best!.score { best = (cuts, imbalance, score) }
                return
            }
            var n = 1
            while n <= maxPieces[axis], product * n <= limit {
                counts[axis] = n
                visit(axis + 1, product * n)
                n += 1
            }
            counts[axis] = 1
        }
        visit(0, 1)
        return best
    }

    /// `pieces` pieces of `length`, cut at the multiples of `align` nearest the equal
    /// shares; nil when two cuts would fall together.
    static func axisCuts(length: Int, align: Int, pieces: Int) -> [Int]? {
        var cuts = [0]
        for j in 1..<max(1, pieces) {
            let ideal = Double(length) * Double(j) / Double(pieces)
            let cut = Int((ideal / Double(align)).rounded()) * align
            guard cut > cuts.last!, cut < length else { return nil }
            cuts.append(cut)
        }
        cuts.append(length)
        return cuts
    }
}

extension ImagePlan {
    /// `region` of level 0 seen at `level`: scaled down by the level's cumulative factors.
    /// Its cuts are multiples of the level's objects there (`SplitPlanner` aligns them), or
    /// the image's edge.
    func levelRegion(_ region: Region, level: Int) throws -> Region {
        let cumulative = levels[level].cumulative, shape = arrays[level].shape, object = arrays[level].chunkShape
        var r = Region(shape: shape)
        for a in region.origin.indices {
            let (start, end) = (region.origin[a], region.end[a])
            guard start % (object[a] * cumulative[a]) == 0,
                  end == description.shape[a] || end % (object[a] * cumulative[a]) == 0 else {
                throw UsageError("region \(region) of '\(description.name)' is not aligned to the objects of level \(level); plan the job again")
            }
            r.origin[a] = start / cumulative[a]
            r.shape[a] = (end == description.shape[a] ? shape[a] : end / cumulative[a]) - r.origin[a]
        }
        return r
    }
}
