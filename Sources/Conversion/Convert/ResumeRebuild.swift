import Pyramid
import Storage
import Synchronization
import ZarrCore

/// On `--resume`, after the source pass: the missing objects of levels 1… that the pass
/// could not store because some of their pixels came from skipped source blocks
/// (`LevelWriter.deferredObjects`). Each is rebuilt from the stored level below — which
/// holds exactly the pixels the pass would have halved (lossless codecs) — level by level
/// upwards, so the level below is complete when it is read. The object is written by a
/// `LevelWriter` restricted to it, through the same unit, padding and shard-assembly
/// path as an uninterrupted run, so its bytes are the same.
enum ResumeRebuild {
    static func run(writers: [LevelWriter], plan: ImagePlan, store: any Store, path: String,
                    options: ConvertOptions) throws -> LevelWriter.Summary {
        var total = LevelWriter.Summary()
        for (w, writer) in writers.enumerated() where writer.index > 0 {
            let objects = writer.deferredObjects
            guard !objects.isEmpty else { continue }
            guard w > 0, writers[w - 1].index == writer.index - 1 else {
                throw ZarrError.invalidRequest("internal error: level \(writer.index) of '\(plan.description.name)' has objects to rebuild but no level below")
            }
            let level = writer.index
            let below = writers[w - 1].array
            let factors = plan.levels[level].factors
            let m = writer.array.metadata
            let done = Mutex(LevelWriter.Summary())
            try parallelFor(objects.count, width: max(1, options.jobs)) { i in
                guard let region = m.chunkRegion(objects[i]).intersection(Region(shape: m.shape)) else { return }
                let origin = zip(region.origin, factors).map { $0 * $1 }
                let end = zip(zip(region.end, factors).map { $0 * $1 }, below.metadata.shape).map { Swift.min($0, $1) }
                let pixels = try downsample(try below.read(Region(origin: origin, shape: zip(end, origin).map { $0 - $1 })),
                                            factors: factors, method: options.downsample)
                guard pixels.shape == region.shape else {
                    throw ZarrError.invalidRequest("internal error: rebuilding \(store.describe(writer.array.chunkKey(objects[i]))) gave \(pixels.shape), not \(region.shape)")
                }
                let one = LevelWriter(index: level, array: writer.array, next: nil, factors: factors, method: options.downsample,
                                      existing: [], region: region) { _, s in
                    done.withLock {
                        $0.written += s.written
                        $0.bytes += s.bytes
                    }
                }
                try one.receive(pixels, at: region)
            }
            let s = done.withLock { $0 }
            total.written += s.written
            total.bytes += s.bytes
        }
        return total
    }
}
