/// A hyper-rectangle of an array: where it starts and how large it is, per dimension.
public struct Region: Sendable, Equatable, CustomStringConvertible {
    public var origin: [Int]
    public var shape: [Int]

    public init(origin: [Int], shape: [Int]) {
        self.origin = origin
        self.shape = shape
    }

    /// The region `[0, shape)`.
    public init(shape: [Int]) { self.init(origin: Array(repeating: 0, count: shape.count), shape: shape) }

    public var end: [Int] { zip(origin, shape).map { $0 + $1 } }
    public var isEmpty: Bool { shape.contains(0) }
    public var elementCount: Int { shape.reduce(1, *) }

    /// The overlap of two regions, or nil if they do not meet.
    public func intersection(_ other: Region) -> Region? {
        var o = [Int](), s = [Int]()
        for d in origin.indices {
            let lo = max(origin[d], other.origin[d])
            let hi = min(origin[d] + shape[d], other.origin[d] + other.shape[d])
            if hi <= lo { return nil }
            o.append(lo)
            s.append(hi - lo)
        }
        return Region(origin: o, shape: s)
    }

    /// Coordinates of the cells of a regular grid (cells of `cellShape`, starting at 0)
    /// that this region overlaps, in C order: chunks of an array, inner chunks of a shard.
    public func gridCells(cellShape: [Int]) -> [[Int]] {
        let box = gridBox(cellShape: cellShape)
        return (0..<box.count).map { box[$0] }
    }

    /// The same cells as `gridCells`, without listing them: a region of tiny cells (a
    /// shard of 10^8 one-element inner chunks) would otherwise be a list of 10^8 arrays.
    public func gridBox(cellShape: [Int]) -> GridBox {
        let lo = zip(origin, cellShape).map { $0 / $1 }
        let hi = zip(end, cellShape).map { ceilDiv($0, $1) }
        return GridBox(origin: lo, counts: zip(hi, lo).map { $0 - $1 })
    }

    public func contains(_ other: Region) -> Bool {
        for d in origin.indices where other.origin[d] < origin[d] || other.origin[d] + other.shape[d] > origin[d] + shape[d] {
            return false
        }
        return true
    }

    public var description: String {
        "[" + zip(origin, end).map { "\($0):\($1)" }.joined(separator: ", ") + "]"
    }
}

/// The cells `origin ..< origin + counts` of a grid, in C order, computed on demand.
public struct GridBox: Sendable {
    public let origin: [Int]
    public let counts: [Int]
    /// Cells in the box (at most the elements of the region it came from, which fit).
    public let count: Int

    public init(origin: [Int], counts: [Int]) {
        self.origin = origin
        self.counts = counts
        self.count = checkedProduct(counts) ?? 0
    }

    public subscript(i: Int) -> [Int] { zip(unravel(i, counts), origin).map { $0 + $1 } }
}

/// Visits every index of the grid `[0, counts)` in C order (last dimension fastest).
public func forEachIndex(_ counts: [Int], _ body: ([Int]) throws -> Void) rethrows {
    if counts.contains(0) { return }
    var idx = [Int](repeating: 0, count: counts.count)
    while true {
        try body(idx)
        var d = counts.count - 1
        while d >= 0 {
            idx[d] += 1
            if idx[d] < counts[d] { break }
            idx[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}

/// The `i`-th index of the grid `[0, counts)` in C order, for walking a grid lazily.
public func unravel(_ i: Int, _ counts: [Int]) -> [Int] {
    var rest = i
    var idx = [Int](repeating: 0, count: counts.count)
    for d in stride(from: counts.count - 1, through: 0, by: -1) where counts[d] > 0 {
        idx[d] = rest % counts[d]
        rest /= counts[d]
    }
    return idx
}

/// All indices of the grid `[0, counts)` in C order.
public func allIndices(_ counts: [Int]) -> [[Int]] {
    var out = [[Int]]()
    out.reserveCapacity(counts.reduce(1, *))
    forEachIndex(counts) { out.append($0) }
    return out
}

/// Row-major strides, in elements.
public func cStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = acc
        acc *= shape[d]
    }
    return strides
}
