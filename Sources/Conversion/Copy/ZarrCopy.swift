import Foundation
import NGFF
import Storage
import Synchronization
import ZarrCore

/// What a copy did, for the summary line.
public struct CopySummary: Sendable {
    public var arrays = 0
    public var written = 0
    public var skipped = 0
    public var inputBytes = 0
    public var outputBytes = 0
    /// Source chunks (inner chunks, for sharded sources) decoded: once each when the
    /// destination's chunks nest in the source's (`CopyWorkList`, `DecodedChunkCache`).
    public var decodes = 0
    public var seconds = 0.0
}

/// Re-encodes a Zarr hierarchy (or one array) into another store.
///
/// The unit of work is one destination object (a chunk or a whole shard): its region is
/// read from the source (only the source chunks, or inner chunks, it overlaps), encoded
/// once and stored atomically. Workers hold one such object at a time, so memory is
/// bounded by `jobs` × object size whatever the array size. Destination objects smaller
/// than a source chunk are copied in groups that share it (`CopyWorkList`), each worker
/// keeping the group's decoded source chunks — at most `CopyWorkList.sharedSourceBudget`
/// bytes per worker — so each source chunk is decoded once. Metadata is written last —
/// each array's after its chunks, the root's after everything — so a reader sees either
/// a complete copy or none, and a re-run resumes by skipping objects that already decode.
public final class ZarrCopy: Sendable {
    let source: any Store
    let sourcePath: String
    let destination: any Store
    let destinationPath: String
    let options: CopyOptions
    let log: @Sendable (String) -> Void

    public init(source: any Store, sourcePath: String, destination: any Store, destinationPath: String,
                options: CopyOptions, log: @escaping @Sendable (String) -> Void) {
        self.source = source
        self.sourcePath = sourcePath
        self.destination = destination
        self.destinationPath = destinationPath
        self.options = options
        self.log = log
    }

    struct PlannedArray {
        var path: String
        var source: ZarrArray
        var destination: ZarrArray
        var work: CopyWorkList
    }

    public func run() throws -> CopySummary {
        let started = Date()
        let hierarchy = try Hierarchy.discover(store: source, root: sourcePath)
        let format = options.format ?? hierarchy.entries[0].node.format
        let planner = ArrayPlanner(options: options)

        // Axis names for NGFF levels, so v3 level arrays get dimension_names.
        var axes = [String: [String]]()
        for entry in hierarchy.entries {
            for (level, names) in NGFFAttributes.levelAxes(entry.node.attributes) { axes[joinKey(entry.path, level)] = names }
        }
        var arrays = [PlannedArray]()
        var groups = [(path: String, attributes: [String: JSONValue])]()
        for entry in hierarchy.entries {
            switch entry.node {
            case let .array(m):
                let planned = try planner.plan(m, axisNames: axes[entry.path])
                let sourceArray = ZarrArray(store: source, path: joinKey(sourcePath, entry.path), metadata: m, concurrency: 1)
                arrays.append(PlannedArray(
                    path: entry.path,
                    source: sourceArray,
                    destination: ZarrArray(store: destination, path: joinKey(destinationPath, entry.path), metadata: planned, concurrency: 1),
                    work: try CopyWorkList(source: sourceArray, destination: planned)))
            case let .group(_, attributes):
                groups.append((entry.path, NGFFAttributes.translate(attributes, to: NGFFVersion(format: format))))
            }
        }
        try prepareDestination(format: format)

        var summary = CopySummary()
        let totalObjects = arrays.reduce(0) { saturatingAdd($0, $1.work.count) }
        let progress = ProgressReporter(total: totalObjects, label: "copy")
        for array in arrays {
            let s = try copyArray(array, progress: progress)
            summary.written += s.written
            summary.skipped += s.skipped
            summary.inputBytes += s.inputBytes
            summary.outputBytes += s.outputBytes
            summary.decodes += s.decodes
            summary.arrays += 1
            try array.destination.writeMetadata()
            progress.finish()
            log("copied \(array.path.isEmpty ? "/" : array.path): \(s.written) objects written, \(s.skipped) already complete")
        }
        // Deepest groups first; the root group (path "") is the last object written.
        for group in groups.sorted(by: { $0.path.split(separator: "/").count > $1.path.split(separator: "/").count }) {
            try Node.writeGroupMetadata(format: format, attributes: group.attributes, store: destination,
                                        path: joinKey(destinationPath, group.path))
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Clears the destination on `--overwrite` (if `OverwriteGuard` allows: a Zarr
    /// hierarchy or Tessera's own output, not holding the source); otherwise removes stale
    /// temporaries of a killed run and refuses to mix into a different, complete
    /// hierarchy. A new (or cleared) destination gets Tessera's mark first, so a killed
    /// copy — chunks but no metadata yet — can later be overwritten too.
    private func prepareDestination(format: ZarrFormat) throws {
        try OverwriteGuard.refuseUnlisted(destination, prefix: destinationPath, location: destination.describe(destinationPath))
        let empty = try !destination.holdsObjects(prefix: destinationPath.isEmpty ? "" : destinationPath + "/")
        if options.overwrite {
            if !empty {
                try OverwriteGuard.clear(destination, prefix: destinationPath, location: destination.describe(destinationPath),
                                         inputs: [source.describe(sourcePath)])
            }
            try OutputMark(command: "copy").write(to: destination, at: destinationPath)
            return
        }
        if empty { try OutputMark(command: "copy").write(to: destination, at: destinationPath) }
        destination.removeStaleTemporaries()
        let other: [String] = format == .v3 ? [ZarrKeys.group, ZarrKeys.array] : [ZarrKeys.v3]
        for name in other where try destination.exists(joinKey(destinationPath, name)) {
            throw UsageError("\(destination.describe(joinKey(destinationPath, name))) holds a Zarr of the other format; use --overwrite to replace it")
        }
    }

    private func copyArray(_ array: PlannedArray, progress: ProgressReporter) throws -> CopySummary {
        let dst = array.destination
        let work = array.work
        let tally = Mutex(CopySummary())
        // Fewer objects than workers (one big shard, say): spread each object's inner
        // chunks across the idle workers instead.
        let innerWidth = max(1, options.jobs / max(1, work.count))
        // One listing tells which objects a previous run left; only those are verified
        // (on S3 a probe per object would be a request, and a download, per shard).
        var listed = Set<String>()
        if !options.overwrite {
            try dst.store.listPages(prefix: dst.path.isEmpty ? "" : dst.path + "/") { page in listed.formUnion(page.lazy.map(\.key)) }
        }
        let stored = listed
        try parallelFor(work.groupCount, width: options.jobs) { g in
            // The decoded source chunks this group's objects share, dropped with the group.
            let shared = DecodedChunkCache(capacity: work.sharedSourceBytes)
            let source = ZarrArray(store: array.source.store, path: array.source.path, metadata: array.source.metadata,
                                   concurrency: 1, decodedChunks: shared)
            defer { tally.withLock { $0.decodes += shared.decodes } }
            for i in (g * work.groupSize)..<min((g + 1) * work.groupSize, work.count) {
                guard let c = work.cell(i) else { progress.advance(bytes: 0); continue }
                try self.copyObject(c, from: source, to: dst, stored: stored, innerWidth: innerWidth, tally: tally, progress: progress)
            }
        }
        return tally.withLock { $0 }
    }

    /// Copies the destination object at `c`, unless a previous run left it complete.
    private func copyObject(_ c: [Int], from source: ZarrArray, to dst: ZarrArray, stored: Set<String>, innerWidth: Int,
                            tally: borrowing Mutex<CopySummary>, progress: ProgressReporter) throws {
        let m = dst.metadata
        let region = m.chunkRegion(c)
        let inBytes = region.elementCount * m.dataType.size
        if stored.contains(dst.chunkKey(c)), try isComplete(dst, c) {
            tally.withLock { $0.skipped += 1 }
            progress.advance(bytes: inBytes)
            return
        }
        let data = try source.read(region)
        var chunk = data
        if region.shape != m.chunkShape {
            chunk = NDBuffer(dataType: m.dataType, shape: m.chunkShape, fill: m.fillValue)
            chunk.paste(data, from: Array(repeating: 0, count: m.dimensions), to: Array(repeating: 0, count: m.dimensions), size: region.shape)
        }
        let outBytes = try dst.writeChunk(c, chunk, concurrency: innerWidth)
        tally.withLock {
            $0.written += 1
            $0.inputBytes += inBytes
            $0.outputBytes += outBytes
        }
        progress.advance(bytes: inBytes)
    }

    /// An object from an earlier run counts as done only if it decodes; one that does not
    /// (written with other settings, damaged) is redone.
    private func isComplete(_ array: ZarrArray, _ coords: [Int]) throws -> Bool {
        guard !options.overwrite else { return false }
        do { return try array.verifyChunk(coords) } catch is ZarrError, is StorageError { return false }
    }
}
