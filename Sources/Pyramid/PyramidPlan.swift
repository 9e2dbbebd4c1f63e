/// One level of a multiscale pyramid.
public struct PyramidLevel: Sendable, Equatable {
    public var shape: [Int]
    /// Factors from the previous level (all 1 for level 0).
    public var factors: [Int]
    /// Factors from level 0.
    public var cumulative: [Int]

    public init(shape: [Int], factors: [Int], cumulative: [Int]) {
        self.shape = shape
        self.factors = factors
        self.cumulative = cumulative
    }
}

/// When z is halved along with y and x.
public enum ZDownsampling: String, Sendable {
    /// When z is finer than twice the y/x spacing (keeps voxels from growing more anisotropic).
    case auto
    case always
    case never
}

/// Plans the levels of a 2× pyramid: y and x halve at every step, z by `z`, t and c never;
/// levels continue until y and x each fit in one chunk.
public enum PyramidPlanner {
    public static func plan(shape: [Int], axisNames: [String], spacing: [Double], chunk: [Int], z policy: ZDownsampling) -> [PyramidLevel] {
        let rank = shape.count
        let y = axisNames.firstIndex(of: "y"), x = axisNames.firstIndex(of: "x"), z = axisNames.firstIndex(of: "z")
        var levels = [PyramidLevel(shape: shape, factors: Array(repeating: 1, count: rank), cumulative: Array(repeating: 1, count: rank))]
        func fits(_ s: [Int]) -> Bool {
            [y, x].compactMap { $0 }.allSatisfy { s[$0] <= chunk[$0] }
        }
        while !fits(levels.last!.shape) {
            let previous = levels.last!
            var factors = Array(repeating: 1, count: rank)
            if let y { factors[y] = 2 }
            if let x { factors[x] = 2 }
            if let z, previous.shape[z] > 1 {
                let zSpacing = spacing[z] * Double(previous.cumulative[z])
                let planar = [y, x].compactMap { $0 }.map { spacing[$0] * Double(previous.cumulative[$0]) }.max() ?? zSpacing
                switch policy {
                case .always: factors[z] = 2
                case .never: break
                case .auto: if zSpacing < 2 * planar { factors[z] = 2 }
                }
            }
            let shape = zip(previous.shape, factors).map { ($0 + $1 - 1) / $1 }
            levels.append(PyramidLevel(shape: shape, factors: factors, cumulative: zip(previous.cumulative, factors).map { $0 * $1 }))
        }
        return levels
    }
}
