import Foundation
import ImageSources
import Storage
import Synchronization
import ZarrCore

extension SplitImageConversion {
    /// Converts region `r` through the region levels, unless its marker says it is done;
    /// then, if every region is done, tries to finish the image (`finish`).
    public func convertRegion(_ r: Int, task: Int) throws -> SplitStepSummary {
        guard regions.indices.contains(r) else {
            throw UsageError("\(input): no region \(r); the job splits it into \(regions.count) regions")
        }
        var summary: SplitStepSummary
        if try store.exists(SplitMarkers.regionKey(r)) {
            log("\(input): region \(r) already done")
            summary = SplitStepSummary(status: .skipped)
        } else {
            let opened = try openInput()
            try claimOutput(opened)
            summary = try convert(region: r, task: task, opened)
        }
        // Whoever writes the last marker sees all of them: the image is always finished by someone.
        if try SplitMarkers.done(in: store).isSuperset(of: regions.indices), let f = try finish(task: task, force: false) {
            summary.finished = f.finished
            summary.finishWritten = f.finishWritten
            summary.finishBytes = f.finishBytes
        }
        return summary
    }

    private func convert(region r: Int, task: Int, _ o: Opened) throws -> SplitStepSummary {
        let plan = o.plan, d = plan.description, box = regions[r]
        guard box.origin.count == d.shape.count, Region(shape: d.shape).contains(box), !box.isEmpty else {
            throw UsageError("\(input): region \(r) \(box) lies outside the image \(d.shape); plan the job again")
        }
        var levelRegions = [Int: Region](), existing = [Int: Set<String>]()
        for i in 0..<regionLevels {
            levelRegions[i] = try plan.levelRegion(box, level: i)
            existing[i] = try keptObjects(plan, level: i, inside: levelRegions[i]!)
        }
        let totals = Mutex((written: 0, bytes: 0))
        let (log, name) = (self.log, "\(d.name) region \(r)")
        let writers = plan.levelWriters(store: store, path: "", levels: 0..<regionLevels, chained: true, method: options.downsample,
                                        existing: existing, regions: levelRegions) { w, s in
            totals.withLock { $0.written += s.written; $0.bytes += s.bytes }
            log(ImagePlan.levelDoneMessage(name, w, s))
        }
        // Level 0's counts, for the windows and the stored statistics (as a whole conversion).
        let histograms = ChannelHistograms.forImage(d)
        let blocks = plan.blocks(level: 0, source: d.readBlock).compactMap { $0.intersection(box) }.map { (level: 0, region: $0) }
        let image = o.image
        try plan.feed(blocks, read: { try image.read($1) }, writers: writers, histograms: histograms, options: options, label: name)
        let (written, bytes) = totals.withLock { ($0.written, $0.bytes) }
        // The marker last: its presence says every object of the region is stored (and,
        // published, that they reach the disk before it does).
        let marker = SplitMarkers.Region(index: r, box: box, task: task, written: written, bytes: bytes, histogram: histograms?.snapshot,
                                              extremes: histograms?.extremesSnapshot)
        try store.publish(SplitMarkers.regionKey(r), marker.json.serialized())
        return SplitStepSummary(status: .done, written: written, outputBytes: bytes, pixelBytes: box.elementCount * d.dataType.size)
    }

    /// The stored objects of `level` inside `region` that may be kept (`KeptObjects`: a
    /// damaged one is deleted and redone). Objects outside the region are another task's
    /// and are neither checked nor touched.
    func keptObjects(_ plan: ImagePlan, level: Int, inside region: Region) throws -> Set<String> {
        let array = ZarrArray(store: store, path: String(level), metadata: plan.arrays[level], concurrency: 1)
        let box = region.gridBox(cellShape: plan.arrays[level].chunkShape)
        var inside = [StoreEntry]()
        try store.listPages(prefix: "\(level)/") { page in
            for (c, e) in array.storedChunks(in: page)
            where c.indices.allSatisfy({ c[$0] >= box.origin[$0] && c[$0] < box.origin[$0] + box.counts[$0] }) {
                inside.append(e)
            }
        }
        guard !inside.isEmpty else { return [] }
        let kept = try KeptObjects(listed: inside, array: array, jobs: options.jobs)
        if !kept.damaged.isEmpty {
            log("\(input): \(kept.damaged.count) stored object(s) of level \(level) damaged, redoing them: "
                + kept.damaged.prefix(3).map { store.describe($0) }.joined(separator: ", "))
        }
        return kept.kept
    }
}
