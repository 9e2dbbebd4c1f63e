import Foundation
import ImageSources
import NGFF
import Storage
import Synchronization
import ZarrCore

extension SplitImageConversion {
    /// Finishes the image once every region is done: builds the levels from `regionLevels`
    /// up out of level `regionLevels - 1` read back (block by block), writes the omero
    /// windows from the regions' merged histograms, and the group metadata last. Only the
    /// task that claims the finishing does it; a claim of the same task (a rerun) or
    /// `force` (`tessera finalize`) continues one. Nil if a region is not done yet.
    public func finish(task: Int?, force: Bool) throws -> SplitStepSummary? {
        guard try SplitMarkers.done(in: store).isSuperset(of: regions.indices) else { return nil }
        if try isFinished() { return SplitStepSummary(status: .skipped) }
        let claim = SplitMarkers.Claim.mine(task: task)
        if try !store.createIfAbsent(SplitMarkers.claimKey, claim.json.serialized()) {
            let holder = try SplitMarkers.Claim.read(from: store)
            guard force || (task != nil && holder?.task == task) else {
                log("\(input): being finished by task \(holder?.task.map(String.init) ?? "finalize") (\(holder?.host ?? "?") pid \(holder?.pid ?? 0))")
                return SplitStepSummary(status: .skipped)
            }
        }
        let o = try openInput()
        try claimOutput(o)
        let plan = o.plan, d = plan.description, levels = plan.levels.count, top = regionLevels - 1

        // The histograms of every region, merged: the same counts one pass over level 0 gives.
        let histograms = ChannelHistograms.forImage(d)
        if let histograms {
            for r in regions.indices {
                let key = store.describe(SplitMarkers.regionKey(r))
                guard let marker = try SplitMarkers.read(r, from: store, bins: histograms.binCount) else {
                    throw UsageError("\(key) vanished while the image was being finished")
                }
                guard marker.box == regions[r], let h = marker.histogram, h.count == d.channels.count,
                      histograms.isExact || marker.extremes?.count == d.channels.count else {
                    throw UsageError("\(key) does not match the job's region \(r) (box or histogram); delete it to convert the region again")
                }
                histograms.merge(h, extremes: histograms.isExact ? nil : marker.extremes)
            }
        }

        let totals = Mutex((written: 0, bytes: 0))
        if regionLevels < levels {
            // Level top is stored whole: its writer only halves what is read back.
            let topArray = ZarrArray(store: store, path: String(top), metadata: plan.arrays[top], concurrency: 1)
            var existing: [Int: Set<String>] = [top: Set((0..<topArray.allChunkCoordinates.count).map { topArray.chunkKey(topArray.allChunkCoordinates[$0]) })]
            for i in regionLevels..<levels { existing[i] = try keptObjects(plan, level: i, inside: Region(shape: plan.arrays[i].shape)) }
            let (log, name) = (self.log, d.name)
            let writers = plan.levelWriters(store: store, path: "", levels: top..<levels, chained: true, method: options.downsample,
                                            existing: existing) { w, s in
                guard w.index > top else { return }
                totals.withLock { $0.written += s.written; $0.bytes += s.bytes }
                log(ImagePlan.levelDoneMessage(name, w, s))
            }
            let blocks = plan.blocks(level: top, source: plan.arrays[top].chunkShape).map { (level: top, region: $0) }
            try plan.feed(blocks, read: { try topArray.read($1) }, writers: writers, histograms: nil, options: options, label: "\(name) levels \(regionLevels)+")
        }

        // As `tessera convert` writes them: the OME-XML, every level's array metadata, the group last.
        if let xml = o.file.omeXML { try store.set("OME/METADATA.ome.xml", Array(xml.utf8)) }
        for i in 0..<levels { try Node.writeArrayMetadata(plan.arrays[i], store: store, path: String(i)) }
        let last = ZarrArray(store: store, path: String(levels - 1), metadata: plan.arrays[levels - 1], concurrency: 1)
        let windows = try options.windowFrom.map(ConvertJob.windows(from:)) ?? sourceWindows(d)
            ?? (histograms?.isExact == true ? histograms?.windows() : nil)
            ?? sortedWindows(last.read(Region(shape: plan.arrays[levels - 1].shape)), channelAxis: d.axisIndex("c"))
        // The stored statistics, before the group metadata, as a whole conversion writes them.
        try histograms?.statistics(dataType: d.dataType, shape: plan.arrays[0].shape)?.write(store: store, imagePath: "")
        let attributes = ImageGroupAttributes.image(d, plan: plan, options: options, windows: windows,
                                                    extra: ["tessera": ImageGroupAttributes.tessera(file: o.file, image: d, options: options)])
        try Node.writeGroupMetadata(format: options.ngff.zarrFormat, attributes: attributes, store: store, path: "")
        log("\(input): finished (\(regions.count) regions)")
        let (written, bytes) = totals.withLock { ($0.written, $0.bytes) }
        return SplitStepSummary(status: .done, finished: true, finishWritten: written, finishBytes: bytes)
    }
}
