import Foundation
import ImageSources
import Pyramid
import Storage
import Synchronization
import ZarrCore

/// What every conversion of an image shares once its plan is made, in one place: the
/// chain of `LevelWriter`s (a whole image, a split image's region, or its finishing
/// levels) and the parallel loop that reads blocks and hands them to the writers.
extension ImagePlan {
    /// Writers for `levels` (a range of this plan's levels), indexed from `levels.lowerBound`.
    /// With `chained`, each hands its halved units to the next writer of the range — never
    /// past the range's last one. `regions[i]`, when given, restricts level i's writer to
    /// that part of the level (a split image's region). `onDone` hears each level finish.
    func levelWriters(store: any Store, path: String, levels: Range<Int>, chained: Bool, method: DownsampleMethod,
                      existing: [Int: Set<String>], regions: [Int: Region] = [:], manifests: [Int: ObjectManifest] = [:],
                      onDone: @escaping @Sendable (LevelWriter, LevelWriter.Summary) -> Void) -> [LevelWriter] {
        var next: LevelWriter?
        var writers = [LevelWriter]()
        for i in levels.reversed() {
            let factors = i + 1 < self.levels.count ? self.levels[i + 1].factors : self.levels[i].factors
            let array = ZarrArray(store: store, path: joinKey(path, String(i)), metadata: arrays[i], concurrency: 1)
            let writer = LevelWriter(index: i, array: array, next: chained ? next : nil, factors: factors, method: method,
                                     existing: existing[i] ?? [], region: regions[i], manifest: manifests[i], onDone: onDone)
            writers.insert(writer, at: 0)
            next = writer
        }
        return writers
    }

    /// The log line of a finished level.
    static func levelDoneMessage(_ name: String, _ w: LevelWriter, _ s: LevelWriter.Summary) -> String {
        let m = w.array.metadata
        return "\(name): level \(w.index) \(m.shape.map(String.init).joined(separator: "x")) done, \(s.written) objects written"
            + (s.skipped > 0 ? ", \(s.skipped) already complete" : "") + String(format: ", %.1f MB", Double(s.bytes) / 1e6)
    }

    /// Reads `blocks` (level, region of that level) on worker threads, counts level-0
    /// pixels into `histograms`, and hands each block to its level's writer (`writers` are
    /// consecutive levels starting at `writers[0].index`). Each worker holds a block, the
    /// units cut from it and their encodings, so the workers fit `options.memoryLimit`.
    /// On `--resume`, blocks with `read[i] == false` are skipped, not read (`ResumeReads`),
    /// and level-0 counts go through `blockHistograms` (kept per block) when given.
    func feed(_ blocks: [(level: Int, region: Region)], read: @escaping @Sendable (Int, Region) throws -> NDBuffer,
              writers: [LevelWriter], histograms: ChannelHistograms?, options: ConvertOptions, label: String,
              needed: [Bool]? = nil, blockHistograms: BlockHistograms? = nil) throws {
        let blockBytes = blockShape.reduce(description.dataType.size, *)
        let workers = max(1, min(options.jobs, options.memoryLimit / max(1, 3 * blockBytes)))
        let innerWidth = max(1, workers / max(1, blocks.count))
        let progress = ProgressReporter(total: blocks.count, label: label, interactive: options.progressBars && isatty(STDERR_FILENO) == 1)
        let first = writers.first?.index ?? 0
        try parallelFor(blocks.count, width: workers) { i in
            let (level, region) = blocks[i]
            if let needed, !needed[i] {
                try writers[level - first].skip(region)
                progress.advance(bytes: 0)
                return
            }
            let pixels = try read(level, region)
            if level == 0 {
                if let blockHistograms { try blockHistograms.count(i, pixels, at: region) } else { histograms?.add(pixels, at: region) }
            }
            try writers[level - first].receive(pixels, at: region, width: innerWidth)
            progress.advance(bytes: pixels.bytes.count)
        }
        progress.finish()
        for w in writers where !w.isComplete {
            throw ZarrError.invalidRequest("internal error: level \(w.index) of '\(description.name)' did not receive all its pixels")
        }
    }

    /// Read blocks of level `level` (whole objects, widened to the source's read units).
    func blocks(level: Int, source readBlock: [Int]) -> [Region] {
        let shape = arrays[level].shape
        let block = level == 0 ? blockShape
            : ImagePlan.block(object: arrays[level].chunkShape, unit: arrays[level].codecs.sharding?.innerChunkShape ?? arrays[level].chunkShape,
                              source: readBlock, shape: shape, elementSize: description.dataType.size)
        return mortonOrderedBlocks(shape: shape, block: block, axisNames: description.axisNames)
    }
}
