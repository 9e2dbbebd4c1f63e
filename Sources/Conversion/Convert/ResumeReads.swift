import Foundation
import Storage
import ZarrCore

/// On `--resume`: which source blocks must be read again. A block is needed iff, at some
/// level it feeds, an object its footprint touches is missing; every other block is
/// skipped (`LevelWriter.skip`), so a resume reads only the regions whose outputs are
/// missing. A block's footprint at a level is its region divided by that level's
/// cumulative factors, rounded outwards — a superset of the pixels it feeds there.
enum ResumeReads {
    /// `blocks`: (level, region) as fed to the writers. `chained`: level 0's blocks feed
    /// every level; otherwise (stored levels) a block feeds only its own level.
    /// `existing[i]`: keys of level i's objects that are kept. Returns, per block, whether
    /// it must be read.
    static func needed(blocks: [(level: Int, region: Region)], plan: ImagePlan, levelPaths: [String], chained: Bool,
                       existing: [Set<String>]) -> [Bool] {
        blocks.map { block in
            let levels = chained ? Array(plan.arrays.indices) : [block.level]
            return levels.contains { level in
                let m = plan.arrays[level]
                let factors = chained ? plan.levels[level].cumulative : m.shape.map { _ in 1 }
                let origin = zip(block.region.origin, factors).map { $0 / $1 }
                let end = zip(block.region.end, factors).map { ($0 + $1 - 1) / $1 }
                guard let footprint = Region(origin: origin, shape: zip(end, origin).map { $0 - $1 })
                    .intersection(Region(shape: m.shape)), !footprint.isEmpty else { return false }
                let objects = footprint.gridBox(cellShape: m.chunkShape)
                return (0..<objects.count).contains { i in
                    !existing[level].contains(joinKey(levelPaths[level], m.chunkKeyEncoding.key(objects[i])))
                }
            }
        }
    }

    /// `TESSERA_TRACE_READS=1`: every source read is named on stderr (tests count them).
    static let tracing = ProcessInfo.processInfo.environment["TESSERA_TRACE_READS"] == "1"

    static func trace(level: Int, region: Region) {
        guard tracing else { return }
        let line = "tessera-trace: read level \(level) origin \(region.origin.map(String.init).joined(separator: ",")) "
            + "shape \(region.shape.map(String.init).joined(separator: ","))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Level-0 histograms (omero windows) kept per source block inside the output while it is
/// converted — hidden `.tessera-histogram-N.json` beside the image's metadata, in the
/// sparse format of a split image's region markers — so a `--resume` that reads only some
/// blocks still computes its windows from every pixel and writes the same `.zattrs`. A
/// block's counts are stored before its pixels reach the writers, so a block whose outputs
/// all exist always has them. They are removed once the image's metadata is written.
final class BlockHistograms: Sendable {
    let store: any Store
    let path: String
    let total: ChannelHistograms
    private let make: @Sendable () -> ChannelHistograms?

    init(store: any Store, path: String, total: ChannelHistograms, make: @escaping @Sendable () -> ChannelHistograms?) {
        (self.store, self.path, self.total, self.make) = (store, path, total, make)
    }

    func key(_ block: Int) -> String { Self.key(block, path: path) }

    static let namePrefix = StoreKey.bookkeepingPrefix + "-histogram-"

    static func key(_ block: Int, path: String) -> String { joinKey(path, namePrefix + "\(block).json") }

    /// Whether a file name is one of these (`--overwrite` may delete them in an output it marked).
    static func isKeyName(_ name: String) -> Bool {
        guard name.hasPrefix(namePrefix), name.hasSuffix(".json") else { return false }
        let number = name.dropFirst(namePrefix.count).dropLast(".json".count)
        return !number.isEmpty && number.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Counts a block that was read, keeping its counts in the output first.
    func count(_ block: Int, _ pixels: NDBuffer, at region: Region) throws {
        guard let one = make() else { return total.add(pixels, at: region) }
        one.add(pixels, at: region)
        let counts = one.snapshot
        let record = SplitMarkers.Region(index: block, box: region, task: -1, written: 0, bytes: 0, histogram: counts)
        try store.set(key(block), record.json.serialized())
        total.merge(counts)
    }

    /// Adds the stored counts of a block that is not read; false if they are not there
    /// (or are not this block's), and then the block must be read after all.
    func restore(_ block: Int, region: Region) throws -> Bool {
        let key = key(block)
        guard let bytes = try store.get(key, limit: SplitMarkers.maxBytes) else { return false }
        guard let record = try? SplitMarkers.Region(json: try JSONValue.parse(bytes, key: store.describe(key)),
                                                    key: store.describe(key), bins: total.binCount),
              record.index == block, record.box == region, let counts = record.histogram else { return false }
        total.merge(counts)
        return true
    }

    /// The image is complete: its per-block counts are no longer needed.
    /// Block 0's goes last: while it is there, others may be (`removeLeftovers`).
    func removeAll(blocks: Int) throws {
        for b in (0..<blocks).reversed() { try store.delete(key(b)) }
    }

    /// On a resume of a complete image: the counts a kill between its metadata and
    /// `removeAll` left (it removes block 0's last, so one look tells).
    static func removeLeftovers(store: any Store, path: String, blocks: Int) throws {
        guard try store.exists(key(0, path: path)) else { return }
        for b in (0..<blocks).reversed() { try store.delete(key(b, path: path)) }
    }
}
