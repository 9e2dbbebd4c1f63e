/// Which pyramid level to read and how large the output is (Docs/render.md, "Level and
/// output size"). Pure arithmetic on metadata.
public enum LevelChoice {
    /// The span `[⌊start/f⌋, ⌈(start+length)/f⌉)` of a level-0 span at a level `f` times
    /// coarser, clipped to the level's `size` and never empty.
    public static func span(start: Int, length: Int, factor f: Double, size: Int) -> (start: Int, length: Int) {
        var lo = Int(min(Double(size - 1), max(0, (Double(start) / f).rounded(.down))))
        var hi = Int(min(Double(size), max(0, (Double(start + length) / f).rounded(.up))))
        lo = max(0, min(lo, size - 1))
        hi = max(hi, lo + 1)
        return (lo, hi - lo)
    }

    /// The output size of a `width × height` region fitted into `box` with the aspect
    /// kept and no upsampling: `s = min(W/w, H/h, 1)`, each side `max(1, ⌊side·s + ½⌋)`.
    /// Without a box, the region's own size.
    public static func outputSize(width: Int, height: Int, box: SizeSpec?) -> (width: Int, height: Int) {
        guard let box else { return (width, height) }
        let s = min(Double(box.width) / Double(width), Double(box.height) / Double(height), 1)
        func side(_ n: Int) -> Int { max(1, Int((Double(n) * s + 0.5).rounded(.down))) }
        return (side(width), side(height))
    }

    /// The coarsest level whose read region still has at least the output's pixels on
    /// both axes, the output being the level-0 region fitted into `box`. For a complete
    /// 2× pyramid that leaves a factor in [1, 2) to resample, and a thumbnail reads
    /// level 0 only when the image is under twice the thumbnail's size.
    public static func choose(levels: [RenderLevel], axes: RenderAxes, region: PixelRect, box: SizeSpec) -> Int {
        let target = outputSize(width: region.width, height: region.height, box: box)
        let spans = levels.map { level in
            (x: span(start: region.x, length: region.width, factor: level.factorX, size: level.shape[axes.x]).length,
             y: span(start: region.y, length: region.height, factor: level.factorY, size: level.shape[axes.y]).length)
        }
        var best = 0
        for (i, s) in spans.enumerated()
        where s.x >= target.width && s.y >= target.height && s.x * s.y < spans[best].x * spans[best].y {
            best = i
        }
        return best
    }
}
