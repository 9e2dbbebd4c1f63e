/// Background level B → render grid, bilinear and separable in float64 (Docs/render.md,
/// "Background subtraction"): render index u has the B coordinate
/// `s = (u + ½)·ratio − ½` (ratio = f_render/f_B), clamped to `[0, n_B − 1]`;
/// `i0 = ⌊s⌋`, `w = s − i0`, value `(1 − w)·B[i0] + w·B[min(i0 + 1, n_B − 1)]`; y first,
/// then x.
enum Upsample {
    /// B coordinate of render index u.
    @inline(__always) static func coordinate(_ u: Int, ratio: Double, size: Int) -> (i0: Int, i1: Int, w: Double) {
        let s = min(max((Double(u) + 0.5) * ratio - 0.5, 0), Double(size - 1))
        let i0 = Int(s.rounded(.down))
        return (i0, min(i0 + 1, size - 1), s - Double(i0))
    }

    /// The B indices `count` render indices from `start` touch.
    static func needed(start: Int, count: Int, ratio: Double, size: Int) -> (start: Int, count: Int) {
        let first = coordinate(start, ratio: ratio, size: size), last = coordinate(start + count - 1, ratio: ratio, size: size)
        return (first.i0, last.i1 - first.i0 + 1)
    }

    /// `values` holds B rows `originY…` × columns `originX…` (`width` wide); the result is
    /// the render region `renderX…+outWidth`, `renderY…+outHeight`.
    static func apply(_ values: [Double], width: Int, originX: Int, originY: Int, levelWidth: Int, levelHeight: Int,
                      ratioX: Double, ratioY: Double, renderX: Int, renderY: Int, outWidth: Int, outHeight: Int) -> [Double] {
        let rows = values.count / width
        // y: render rows from B rows, every B column held.
        var tall = [Double](repeating: 0, count: outHeight * width)
        for v in 0..<outHeight {
            let c = coordinate(renderY + v, ratio: ratioY, size: levelHeight)
            let a = min(max(c.i0 - originY, 0), rows - 1) * width, b = min(max(c.i1 - originY, 0), rows - 1) * width
            let d = v * width
            for x in 0..<width { tall[d + x] = (1 - c.w) * values[a + x] + c.w * values[b + x] }
        }
        // x.
        var out = [Double](repeating: 0, count: outHeight * outWidth)
        for u in 0..<outWidth {
            let c = coordinate(renderX + u, ratio: ratioX, size: levelWidth)
            let a = min(max(c.i0 - originX, 0), width - 1), b = min(max(c.i1 - originX, 0), width - 1)
            for v in 0..<outHeight { out[v * outWidth + u] = (1 - c.w) * tall[v * width + a] + c.w * tall[v * width + b] }
        }
        return out
    }
}
