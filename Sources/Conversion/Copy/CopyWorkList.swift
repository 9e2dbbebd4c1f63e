import ZarrCore

/// The destination objects one array's copy visits, as a count and a lookup, so the
/// chunk grid is never held in memory: a [10^6, 10^6] array of [1, 1] chunks has 10^12
/// grid cells, and a list of them would take terabytes.
///
/// When the grid dwarfs what the source stores, only the destination objects that
/// overlap a stored source object are visited (found from one listing); every other one
/// would read as fill value only, which a copy does not store.
///
/// When destination objects are smaller than the source's decoded chunks (inner chunks,
/// if sharded) along some axis, several of them read one source chunk. The cells are
/// then visited in groups — the cells that share one source chunk, consecutive items —
/// and one worker copies a whole group holding those decoded source chunks
/// (`sharedSourceBytes`), so each is decoded once when the destination's chunks nest in
/// the source's. (The sparse walk is not grouped: there a source chunk feeding several
/// destination objects may be decoded once for each.)
struct CopyWorkList: Sendable {
    /// Destination grid cells: every one, or those around stored source objects.
    private enum Cells: Sendable {
        case dense(grid: [Int])
        /// The grid walked group by group: `group` cells per group along each axis,
        /// `groups` groups; cells of edge groups that fall outside the grid are skipped.
        case grouped(grid: [Int], group: [Int], groups: [Int])
        /// For each stored source object (C order of its coordinates): the box of
        /// destination cells it overlaps, and the running total of box sizes before it.
        case sparse(boxes: [Box], starts: [Int], stored: Set<[Int]>, source: ArrayMetadata, destination: ArrayMetadata)
    }

    struct Box: Sendable {
        var source: [Int]
        var origin: [Int]
        var counts: [Int]
    }

    /// Below this many cells the grid is walked whole without listing the source.
    static let denseGridCells = 1 << 16

    private let cells: Cells
    /// Items to visit; `cell(i)` is valid for `0..<count`.
    let count: Int
    /// Consecutive items that read the same source chunks; one worker copies them
    /// together (items `g * groupSize ..< (g + 1) * groupSize` form group `g`).
    let groupSize: Int
    /// Bytes of decoded source chunks one group shares: what its worker keeps.
    let sharedSourceBytes: Int

    /// At most this many bytes of decoded source chunks are kept per worker; a layout
    /// that would need more is copied cell by cell (decoding shared chunks again).
    static let sharedSourceBudget = 256 << 20

    /// Walks the whole grid when it is small or the source stores at least a quarter of
    /// it; otherwise lists the source array once and visits only what it stores.
    init(source: ZarrArray, destination: ArrayMetadata) throws {
        let grid = destination.chunkGrid
        let total = destination.chunkCount
        if total <= Self.denseGridCells {
            self.init(dense: grid, count: total, source: source.metadata, destination: destination)
            return
        }
        let s = source.metadata
        // A page at a time: only the stored chunks' coordinates are kept, not the keys.
        var stored = Set<[Int]>()
        try source.store.listPages(prefix: source.path.isEmpty ? "" : source.path + "/") { page in
            stored.formUnion(source.storedChunks(in: page).lazy.map(\.coords))
        }
        if stored.count > total / 4 {
            self.init(dense: grid, count: total, source: s, destination: destination)
            return
        }
        var boxes = [Box](), starts = [Int](), sum = 0
        for c in stored.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let region = s.chunkRegion(c)
            if region.isEmpty { continue }
            let lo = zip(region.origin, destination.chunkShape).map { $0 / $1 }
            let hi = zip(region.end, destination.chunkShape).map { ceilDiv($0, $1) }
            let counts = zip(hi, lo).map { $0 - $1 }
            // A box has no more cells than its source object has elements (validated to fit).
            guard let n = checkedProduct(counts), let next = checkedSum([sum, n]) else {
                throw UsageError("the copy of \(source.store.describe(source.path)) has more than 2^63 objects to visit")
            }
            boxes.append(Box(source: c, origin: lo, counts: counts))
            starts.append(sum)
            sum = next
        }
        self.init(cells: .sparse(boxes: boxes, starts: starts, stored: stored, source: s, destination: destination), count: sum)
    }

    private init(cells: Cells, count: Int, groupSize: Int = 1, sharedSourceBytes: Int = 0) {
        self.cells = cells
        self.count = count
        self.groupSize = groupSize
        self.sharedSourceBytes = sharedSourceBytes
    }

    /// The whole grid: grouped by shared source chunk when destination cells are smaller
    /// than them along some axis and a group's chunks fit `sharedSourceBudget`, else in
    /// C order.
    private init(dense grid: [Int], count: Int, source: ArrayMetadata, destination: ArrayMetadata) {
        let unit = source.codecs.sharding?.innerChunkShape ?? source.chunkShape
        let cell = destination.chunkShape
        // Cells per group along each axis: how many fit in one source chunk.
        let group = zip(unit, cell).map { u, c in c < u ? max(1, u / c) : 1 }
        // Source chunks one cell touches (one more per axis where they do not align).
        let touched = zip(unit, cell).map { u, c in ceilDiv(c, u) + (c % u == 0 || u % c == 0 ? 0 : 1) }
        let groups = zip(grid, group).map { ceilDiv($0, $1) }
        if group.contains(where: { $0 > 1 }),
           let groupSize = checkedProduct(group), let padded = checkedProduct(groups).flatMap({ checkedProduct([$0, groupSize]) }),
           let unitBytes = checkedProduct(unit + [source.dataType.size]), let shared = checkedProduct(touched + [unitBytes]),
           shared <= Self.sharedSourceBudget {
            self.init(cells: .grouped(grid: grid, group: group, groups: groups), count: padded, groupSize: groupSize, sharedSourceBytes: shared)
        } else {
            self.init(cells: .dense(grid: grid), count: count)
        }
    }

    /// Groups to hand out; group `g` is items `g * groupSize ..< min((g + 1) * groupSize, count)`.
    var groupCount: Int { ceilDiv(count, groupSize) }

    /// The destination cell of item `i`, or nil when another item visits it (a cell that
    /// overlaps several stored source objects belongs to the first of them in C order).
    func cell(_ i: Int) -> [Int]? {
        switch cells {
        case let .dense(grid):
            return unravel(i, grid)
        case let .grouped(grid, group, groups):
            let size = group.reduce(1, *)
            let cell = zip(zip(unravel(i / size, groups), group).map { $0 * $1 }, unravel(i % size, group)).map { $0 + $1 }
            return zip(cell, grid).allSatisfy({ $0 < $1 }) ? cell : nil
        case let .sparse(boxes, starts, stored, source, destination):
            // The last box starting at or before i.
            var lo = 0, hi = starts.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if starts[mid] <= i { lo = mid } else { hi = mid - 1 }
            }
            let box = boxes[lo]
            let cell = zip(unravel(i - starts[lo], box.counts), box.origin).map { $0 + $1 }
            let cellRegion = destination.chunkRegion(cell)
            let first = zip(cellRegion.origin, source.chunkShape).map { $0 / $1 }
            let last = zip(cellRegion.end, source.chunkShape).map { ceilDiv($0, $1) }
            let span = zip(last, first).map { $0 - $1 }
            // Source objects overlapping the cell, in C order: the first stored one owns it.
            let n = checkedProduct(span) ?? 0
            for j in 0..<n {
                let c = zip(unravel(j, span), first).map { $0 + $1 }
                if stored.contains(c) { return c == box.source ? cell : nil }
            }
            return nil
        }
    }
}
