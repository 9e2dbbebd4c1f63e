import Foundation
import ImageSources
import NGFF
import Pyramid
import Storage
import Synchronization
import ZarrCore

/// What one converted image amounted to.
public struct ImageSummary: Sendable {
    public var name: String
    public var levels: Int
    public var pixelBytes = 0
    public var written = 0
    public var skipped = 0
    public var outputBytes = 0
}

/// Converts one image into an NGFF image group at `path` of `store`: level arrays'
/// metadata first, then every level from one pass over the source, then the group's
/// NGFF metadata last — the mark that the image is complete.
struct ImageConversion {
    let source: any ImageSource
    let store: any Store
    let path: String
    let options: ConvertOptions
    /// Non-NGFF attributes for the group (`tessera`, `image-label`).
    let extraAttributes: [String: JSONValue]
    /// Windows to use instead of computing them (`--window-from`); nil = compute.
    let fixedWindows: [ChannelWindow]?
    let writeOmero: Bool
    let log: @Sendable (String) -> Void
    /// The input file, named by errors about this image.
    var sourcePath = ""

    func run() throws -> ImageSummary {
        let d = source.description
        // With --use-existing-levels each stored level is copied from its own pages and
        // nothing is downsampled; otherwise every level comes from level 0's blocks.
        let stored = options.useExistingLevels ? source.storedLevels : []
        let plan = try ImagePlan(d, options: options, storedLevels: stored.map(\.description.shape))
        let levelSources: [any ImageSource] = [source] + stored
        // Refused before anything is written: the kernels have no float16 arithmetic, and
        // picking a pixel is the only method that needs none.
        if d.dataType == .float16, stored.isEmpty, plan.levels.count > 1, options.downsample != .nearest {
            throw SourceError(sourcePath.isEmpty ? d.name : sourcePath,
                              "float16 pixels can be downsampled only with --downsample nearest (not \(options.downsample.rawValue))")
        }
        let format = options.ngff.zarrFormat
        let levelPaths = plan.arrays.indices.map { joinKey(path, String($0)) }
        var existing = [Set<String>](repeating: [], count: plan.arrays.count)
        if options.resume {
            let stored = try plan.arrays.indices.map { try storedMetadata(planned: plan.arrays[$0], at: levelPaths[$0]) }
            // The group's NGFF metadata is written only after every level's objects have
            // landed, so on --resume its presence, with the levels' stored metadata matching
            // this run's (checked just above), means nothing is left: no object is listed
            // or checked and no pixel is read. (An object damaged after the image was
            // finished is beyond what a resume repairs; reconvert with --overwrite.)
            if stored.allSatisfy({ $0 }), case let .group(_, attributes)? = try? Node.open(store: store, path: path),
               NGFFAttributes.levelAxes(attributes).count == plan.arrays.count {
                // A kill right after the metadata may have left the per-block counts.
                try BlockHistograms.removeLeftovers(store: store, path: path, blocks: plan.blocks(level: 0, source: d.readBlock).count)
                for levelPath in levelPaths { try ObjectManifest.remove(store: store, levelPath: levelPath) }
                log("\(d.name): already complete")
                return ImageSummary(name: d.name, levels: plan.levels.count, pixelBytes: d.byteCount)
            }
            for (i, m) in plan.arrays.enumerated() where stored[i] {
                existing[i] = try keptObjects(planned: m, at: levelPaths[i]).kept
            }
        }
        for (i, m) in plan.arrays.enumerated() { try Node.writeArrayMetadata(m, store: store, path: levelPaths[i]) }

        let summary = Mutex(ImageSummary(name: d.name, levels: plan.levels.count, pixelBytes: d.byteCount))
        let log = self.log
        // Plain chunks are recorded as they land, so a resume keeps them by size.
        var manifests = [Int: ObjectManifest]()
        for (i, m) in plan.arrays.enumerated() where m.codecs.sharding == nil {
            try ObjectManifest.removeOlderLog(store: store, levelPath: levelPaths[i])
            manifests[i] = ObjectManifest(store: store, levelPath: levelPaths[i])
        }
        let writers = plan.levelWriters(store: store, path: path, levels: plan.arrays.indices, chained: stored.isEmpty,
                                        method: options.downsample, existing: Dictionary(uniqueKeysWithValues: existing.enumerated().map { ($0, $1) }),
                                        manifests: manifests) { w, s in
            summary.withLock {
                $0.written += s.written
                $0.skipped += s.skipped
                $0.outputBytes += s.bytes
            }
            log(ImagePlan.levelDoneMessage(d.name, w, s))
        }

        // Level-0 counts for the stored statistics (`.tessera-stats.bin`) and, when exact
        // (8/16-bit), the omero windows.
        let histograms = ChannelHistograms.forImage(d)
        // Blocks of every level that is read from the source (level 0, or all stored levels).
        var blocks = [(level: Int, region: Region)]()
        for (i, levelSource) in levelSources.enumerated() {
            blocks += plan.blocks(level: i, source: levelSource.description.readBlock).map { (i, $0) }
        }
        // Level-0 counts are kept per block in the output, so a resume that reads only some
        // blocks computes the same windows (BlockHistograms).
        let blockHistograms = histograms.map { total in
            BlockHistograms(store: store, path: path, total: total) {
                ChannelHistograms(statisticsOf: d.dataType, channels: d.channels.count, channelAxis: d.axisIndex("c"))
            }
        }
        var needed: [Bool]?
        if options.resume {
            var wanted = ResumeReads.needed(blocks: blocks, plan: plan, levelPaths: levelPaths, existing: existing)
            // A skipped level-0 block's counts come from the output; without them it is read.
            if let blockHistograms {
                for i in blocks.indices where !wanted[i] && blocks[i].level == 0 {
                    wanted[i] = try !blockHistograms.restore(i, region: blocks[i].region)
                }
            }
            needed = wanted
        }
        try plan.feed(blocks, read: { level, region in
            ResumeReads.trace(level: level, region: region)
            return try levelSources[level].read(region)
        }, writers: writers, histograms: histograms, options: options, label: d.name, needed: needed, blockHistograms: blockHistograms)
        let rebuilt = try ResumeRebuild.run(writers: writers, plan: plan, store: store, path: path, options: options)
        summary.withLock {
            $0.written += rebuilt.written
            $0.outputBytes += rebuilt.bytes
        }
        if rebuilt.written > 0 { log("\(d.name): \(rebuilt.written) objects of later levels rebuilt from the stored level below") }
        // Every chunk has landed: the last partial batches are written before the image is
        // finished (and the batches then removed), so nothing is pending when they are.
        for manifest in manifests.values { try manifest.flush() }

        var windows: [ChannelWindow]?
        if writeOmero {
            windows = try fixedWindows ?? sourceWindows(d) ?? (histograms?.isExact == true ? histograms?.windows() : nil)
                ?? sortedWindows(writers.last!.array.read(Region(shape: plan.arrays.last!.shape)), channelAxis: d.axisIndex("c"))
        }
        // Published before the group metadata: an image with metadata has its statistics
        // (or was written by an older Tessera, or is float16, which has none).
        try histograms?.statistics(dataType: d.dataType, shape: plan.arrays[0].shape)?.write(store: store, imagePath: path)
        let attributes = ImageGroupAttributes.image(d, plan: plan, options: options, windows: windows, extra: extraAttributes)
        try Node.writeGroupMetadata(format: format, attributes: attributes, store: store, path: path)
        try blockHistograms?.removeAll(blocks: blocks.count)
        for levelPath in levelPaths { try ObjectManifest.remove(store: store, levelPath: levelPath) }
        if writeOmero, let afterImage = options.afterImage { try afterImage(store, path) }
        return summary.withLock { $0 }
    }

    /// On `--resume`: whether the level's array metadata is stored (false: nothing of the
    /// level is); refused when it differs from what this run would write.
    private func storedMetadata(planned: ArrayMetadata, at levelPath: String) throws -> Bool {
        guard let node = try? Node.open(store: store, path: levelPath) else { return false }
        guard case let .array(found) = node, found.format == planned.format,
              found.shape == planned.shape, found.chunkShape == planned.chunkShape, found.dataType == planned.dataType,
              found.codecs.v3Metadata == planned.codecs.v3Metadata else {
            throw UsageError("\(store.describe(levelPath)) was written with different settings; use --overwrite to start again")
        }
        return true
    }

    /// On `--resume`: the level's stored objects that may be kept (`KeptObjects`); its
    /// metadata was checked (`storedMetadata`).
    private func keptObjects(planned: ArrayMetadata, at levelPath: String) throws -> KeptObjects {
        let array = ZarrArray(store: store, path: levelPath, metadata: planned, concurrency: 1)
        let kept = try KeptObjects(listingPagesOf: array, jobs: options.jobs,
                                   manifest: try ObjectManifest.read(store: store, levelPath: levelPath))
        if !kept.damaged.isEmpty {
            let shown = kept.damaged.prefix(3).map { store.describe($0) }.joined(separator: ", ")
            log("\(source.description.name): \(kept.damaged.count) stored object(s) damaged, redoing them: \(shown)"
                + (kept.damaged.count > 3 ? ", …" : ""))
        }
        return kept
    }
}

/// Level-0 blocks (clipped to the image), ordered so that blocks near each other in
/// space are near each other in time: t and c outermost, then a Morton (Z-order) curve
/// over z, y, x. Neighbouring blocks complete the next levels' units together, which is
/// what keeps the pyramid's waiting units few.
func mortonOrderedBlocks(shape: [Int], block: [Int], axisNames: [String]) -> [Region] {
    let grid = zip(shape, block).map { ($0 + $1 - 1) / $1 }
    let spatial = axisNames.indices.filter { ["z", "y", "x"].contains(axisNames[$0]) }
    let other = axisNames.indices.filter { !spatial.contains($0) }
    func morton(_ b: [Int]) -> UInt64 {
        var code: UInt64 = 0
        for bit in 0..<21 {
            for (k, axis) in spatial.enumerated() {
                code |= UInt64((b[axis] >> bit) & 1) << UInt64(bit * spatial.count + (spatial.count - 1 - k))
            }
        }
        return code
    }
    let keyed = allIndices(grid).map { b in (outer: other.map { b[$0] }, code: morton(b), b: b) }
    let sorted = keyed.sorted { l, r in l.outer != r.outer ? l.outer.lexicographicallyPrecedes(r.outer) : l.code < r.code }
    let full = Region(shape: shape)
    return sorted.map { Region(origin: zip($0.b, block).map { $0 * $1 }, shape: block).intersection(full)! }
}
