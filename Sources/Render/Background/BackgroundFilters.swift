import Foundation

/// The smooth background estimates on a region of level B (Docs/render.md, "Background
/// subtraction"). Each takes the region read (`width × height` values, its origin and
/// B's whole size, which the edge rules need) and returns the estimate for the needed
/// sub-rectangle only. The region was padded by the kernel's reach, so every needed value
/// equals the whole-plane computation: scipy's `reflect` edges (median, gaussian) and
/// skimage's `+inf` padding (rolling ball) apply at B's true edges.
struct BackgroundRegion {
    var values: [Double]
    var width: Int, height: Int
    var originX: Int, originY: Int
    var levelWidth: Int, levelHeight: Int
    var needX: Int, needY: Int, needWidth: Int, needHeight: Int

    /// scipy.ndimage's `reflect` (half-sample symmetric: d c b a | a b c d | d c b a) of a
    /// global index, as a local one.
    @inline(__always) static func reflect(_ g: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * n
        var i = g % period
        if i < 0 { i += period }
        return i < n ? i : period - 1 - i
    }

    @inline(__always) func localX(_ gx: Int) -> Int { min(max(Self.reflect(gx, levelWidth) - originX, 0), width - 1) }
    @inline(__always) func localY(_ gy: Int) -> Int { min(max(Self.reflect(gy, levelHeight) - originY, 0), height - 1) }
}

enum BackgroundFilters {
    /// skimage.restoration.rolling_ball(plane, radius=r) (0.26): for each pixel, the
    /// minimum over the ball's offsets o of `img[p + o] + (k_centre − k[o])`, with
    /// `k[o] = sqrt(r² − |o|²)` inside the radius, offsets over `−⌈r⌉…⌈r⌉`, and pixels
    /// outside the image left out (skimage pads with +inf). This is the ball's erosion,
    /// not ImageJ's opening; the ball's height is in intensity units.
    static func rollingBall(_ region: BackgroundRegion, radius r: Double) -> [Double] {
        let reach = Int(r.rounded(.up))
        var offsets = [(dy: Int, dx: Int, add: Double)]()
        let centre = (r * r).squareRoot()
        for dy in -reach...reach {
            for dx in -reach...reach {
                let d2 = Double(dy * dy + dx * dx)
                guard d2.squareRoot() <= r else { continue }
                let k = max(r * r - d2, 0).squareRoot()
                offsets.append((dy, dx, centre - k))
            }
        }
        var out = [Double](repeating: 0, count: region.needWidth * region.needHeight)
        for y in 0..<region.needHeight {
            let gy = region.needY + y
            for x in 0..<region.needWidth {
                let gx = region.needX + x
                var best = Double.infinity
                for o in offsets {
                    let py = gy + o.dy, px = gx + o.dx
                    guard py >= 0, py < region.levelHeight, px >= 0, px < region.levelWidth else { continue }
                    let v = region.values[(py - region.originY) * region.width + (px - region.originX)] + o.add
                    if v < best { best = v }
                }
                out[y * region.needWidth + x] = best
            }
        }
        return out
    }

    /// scipy.ndimage.median_filter(plane, size=k, mode='reflect') for odd k: the middle
    /// of the k×k window's sorted values.
    static func median(_ region: BackgroundRegion, size k: Int) -> [Double] {
        let half = k / 2
        var window = [Double](repeating: 0, count: k * k)
        var out = [Double](repeating: 0, count: region.needWidth * region.needHeight)
        let xs = (0..<(region.needWidth + 2 * half)).map { region.localX(region.needX - half + $0) }
        for y in 0..<region.needHeight {
            let rows = (0..<k).map { region.localY(region.needY + y - half + $0) * region.width }
            for x in 0..<region.needWidth {
                var n = 0
                for row in rows {
                    for dx in 0..<k { window[n] = region.values[row + xs[x + dx]]; n += 1 }
                }
                out[y * region.needWidth + x] = Percentile.select(&window, (k * k) / 2)
            }
        }
        return out
    }

    /// scipy's gaussian weights: radius `⌊4σ + ½⌋`, `exp(−½x²/σ²)` normalised.
    static func gaussianWeights(sigma: Double) -> [Double] {
        let r = Int(4.0 * sigma + 0.5)
        var w = (-r...r).map { x in exp(-0.5 / (sigma * sigma) * Double(x * x)) }
        let sum = w.reduce(0, +)
        for i in w.indices { w[i] /= sum }
        return w
    }

    /// scipy.ndimage.gaussian_filter(plane, sigma, mode='reflect', truncate=4.0) on
    /// float64: correlate along y, then x, summed symmetric pairs first as scipy does
    /// (the result can differ from scipy's in the last bits).
    static func gaussian(_ region: BackgroundRegion, sigma: Double) -> [Double] {
        let w = gaussianWeights(sigma: sigma), r = w.count / 2
        // y over the needed rows, every column of the region.
        var tall = [Double](repeating: 0, count: region.needHeight * region.width)
        for y in 0..<region.needHeight {
            let gy = region.needY + y
            let centre = region.localY(gy) * region.width
            let pairs = (1..<(r + 1)).map { (region.localY(gy - $0) * region.width, region.localY(gy + $0) * region.width) }
            for x in 0..<region.width {
                var acc = region.values[centre + x] * w[r]
                for (j, p) in pairs.enumerated() { acc += (region.values[p.0 + x] + region.values[p.1 + x]) * w[r + j + 1] }
                tall[y * region.width + x] = acc
            }
        }
        // x over the needed columns.
        var out = [Double](repeating: 0, count: region.needHeight * region.needWidth)
        for x in 0..<region.needWidth {
            let gx = region.needX + x
            let centre = region.localX(gx)
            let pairs = (1..<(r + 1)).map { (region.localX(gx - $0), region.localX(gx + $0)) }
            for y in 0..<region.needHeight {
                let row = y * region.width
                var acc = tall[row + centre] * w[r]
                for (j, p) in pairs.enumerated() { acc += (tall[row + p.0] + tall[row + p.1]) * w[r + j + 1] }
                out[y * region.needWidth + x] = acc
            }
        }
        return out
    }
}
