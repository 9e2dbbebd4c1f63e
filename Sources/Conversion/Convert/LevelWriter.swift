import Pyramid
import Storage
import Synchronization
import ZarrCore

/// Receives one pyramid level in pieces, in any order, from any thread, and writes it.
///
/// Pixels are tracked per *unit* (a chunk, or an inner chunk of a shard). A unit that a
/// piece covers entirely is encoded at once; a partly covered one waits in memory until
/// the other pieces arrive. Every completed unit is also halved and passed to the next
/// level's writer, so the whole pyramid is built from one read of the source: levels
/// never re-read what was written. A shard's inner chunks are spooled to a temporary file
/// as they are encoded (`ShardSpool`, in whatever order they complete); when the last one
/// is in, the shard is streamed to its object in C order with its index
/// (`ShardAssembly.write`), one inner chunk in memory at a time. A shard that lies inside
/// one received piece (level 0's, whose read blocks are whole shards) skips the spool: its
/// chunks wait in memory for the rest of that piece's, and are written once.
///
/// On `--resume`, source regions whose level-0 objects all exist are not read: they are
/// `skip`ped instead, which counts their units as done without pixels and passes the
/// skip down the pyramid. A unit with any skipped pixels is never stored (its pixels are
/// incomplete): when its object is missing, the object is `deferred`, left for the caller
/// to rebuild from the stored level below once that level is complete (`ResumeRebuild`).
///
/// Memory: the units waiting for pieces, and an index's worth per shard in progress —
/// not the shards' bytes (but for the encodings of a shard inside the piece at hand). Level-0 blocks visited in Morton order finish the next level's
/// units after a few blocks, so the wait list stays short.
final class LevelWriter: Sendable {
    struct Summary: Sendable {
        var written = 0
        var skipped = 0
        var bytes = 0
    }

    let index: Int
    let array: ZarrArray
    private let unit: [Int]
    private let sharding: ShardingCodec?
    private let unitsPerObject: [Int]
    private let next: LevelWriter?
    private let factors: [Int]
    private let method: DownsampleMethod
    /// Objects already stored (resume): their units are not encoded again.
    private let existing: Set<String>
    private let totalUnits: Int
    /// Plain chunks that land are recorded here (resume keeps them by size).
    private let manifest: ObjectManifest?
    private let onDone: @Sendable (LevelWriter, Summary) -> Void

    private struct Partial {
        var buffer: NDBuffer
        var filled: Int
        /// Some of its pixels were skipped (resume), so it must not be stored.
        var skipped = false
    }

    /// A shard's inner chunks as they complete, and how many of them lie inside the array
    /// (fewer than a whole shard's at the array's far edges).
    private struct Assembly {
        var shard: ShardAssembly
        let expected: Int
        /// Where its stored inner chunks wait; made with the first one.
        var spool: ShardSpool?
    }

    private struct State {
        var partial: [[Int]: Partial] = [:]
        var shards: [[Int]: Assembly] = [:]
        var unitsDone = 0
        var summary = Summary()
        var deferred = Set<[Int]>()
        /// Spools made so far (shards that waited for pieces of other blocks).
        var spools = 0
    }

    private let state = Mutex(State())

    /// `region`: only this part of the level is written (a split image's region, aligned to
    /// whole objects); the level is complete when the region's units are.
    init(index: Int, array: ZarrArray, next: LevelWriter?, factors: [Int], method: DownsampleMethod, existing: Set<String>,
         region: Region? = nil, manifest: ObjectManifest? = nil, onDone: @escaping @Sendable (LevelWriter, Summary) -> Void) {
        self.index = index
        self.array = array
        let m = array.metadata
        sharding = m.codecs.sharding
        unit = sharding?.innerChunkShape ?? m.chunkShape
        unitsPerObject = zip(m.chunkShape, unit).map { $0 / $1 }
        self.next = next
        self.factors = factors
        self.method = method
        self.existing = existing
        totalUnits = (region ?? Region(shape: m.shape)).gridBox(cellShape: unit).count
        self.onDone = onDone
        self.manifest = manifest
    }

    var isComplete: Bool { state.withLock { $0.unitsDone == totalUnits } }

    /// Shards in progress: how many, the bytes of their inner chunks held in memory, and
    /// those waiting in their spools (what the memory model says, checked by tests).
    var shardsInProgress: (count: Int, inMemory: Int, spooled: Int) {
        state.withLock { s in
            (s.shards.count, s.shards.values.reduce(0) { $0 + $1.shard.bytesInMemory },
             s.shards.values.reduce(0) { $0 + ($1.spool?.size ?? 0) })
        }
    }

    /// How many shards went through a spool so far.
    var spoolsMade: Int { state.withLock { $0.spools } }

    /// Resume: missing objects some of whose pixels were skipped, so not stored.
    var deferredObjects: [[Int]] { state.withLock { $0.deferred.sorted { $0.lexicographicallyPrecedes($1) } } }

    private func unitRegion(_ u: [Int]) -> Region {
        let origin = zip(u, unit).map { $0 * $1 }
        return Region(origin: origin, shape: zip(origin, zip(unit, array.metadata.shape)).map { Swift.min($1.0, $1.1 - $0) })
    }

    /// Takes the pixels of `region` of this level. `width` threads may encode the units
    /// it completes (level 0 uses it when there are fewer blocks than workers).
    func receive(_ piece: NDBuffer, at region: Region, width: Int = 1) throws {
        let units = region.gridCells(cellShape: unit)
        try parallelFor(units.count, width: width) { i in
            let u = units[i]
            let ur = self.unitRegion(u)
            let overlap = ur.intersection(region)!
            if overlap == ur {
                let data = ur == region ? piece : piece.extract(Region(origin: zip(ur.origin, region.origin).map { $0 - $1 }, shape: ur.shape))
                try self.complete(u, ur, data, objectInPiece: self.objectInside(u, region))
                return
            }
            let fill = self.array.metadata.fillValue
            // nil: still waiting; .some(nil): complete but partly skipped (resume).
            let done: NDBuffer?? = self.state.withLock { s in
                // Taken out of the dictionary while pasted into, so the buffer is not copied.
                var p = s.partial.removeValue(forKey: u) ?? Partial(buffer: NDBuffer(dataType: piece.dataType, shape: ur.shape, fill: fill), filled: 0)
                p.buffer.paste(piece, from: zip(overlap.origin, region.origin).map { $0 - $1 },
                               to: zip(overlap.origin, ur.origin).map { $0 - $1 }, size: overlap.shape)
                p.filled += overlap.elementCount
                if p.filled == ur.elementCount { return p.skipped ? .some(nil) : .some(p.buffer) }
                s.partial[u] = p
                return nil
            }
            if let done { try self.complete(u, ur, done) }
        }
    }

    /// Resume: `region` of this level gets no pixels — a source block whose objects here
    /// are all stored, or the halved region of a unit that got none. Its units count as
    /// done; a partly skipped unit waits for its other pieces like any other, and a missing
    /// object with skipped units is deferred (`deferredObjects`), not stored.
    func skip(_ region: Region) throws {
        for u in region.gridCells(cellShape: unit) {
            let ur = unitRegion(u)
            let overlap = ur.intersection(region)!
            if overlap == ur {
                try complete(u, ur, nil)
                continue
            }
            let fill = array.metadata.fillValue, dataType = array.metadata.dataType
            let done: Bool = state.withLock { s in
                var p = s.partial.removeValue(forKey: u) ?? Partial(buffer: NDBuffer(dataType: dataType, shape: ur.shape, fill: fill), filled: 0)
                p.filled += overlap.elementCount
                p.skipped = true
                if p.filled == ur.elementCount { return true }
                s.partial[u] = p
                return false
            }
            if done { try complete(u, ur, nil) }
        }
    }

    /// Whether the whole object (shard) holding unit `u` lies inside `region`: then all its
    /// units come from one `receive`, and their encodings can wait for each other in
    /// memory — no more than the piece itself holds — instead of in a spool.
    private func objectInside(_ u: [Int], _ region: Region) -> Bool {
        guard sharding != nil else { return false }
        return region.contains(array.metadata.chunkRegion(zip(u, unitsPerObject).map { $0 / $1 }))
    }

    /// A unit has all its pixels: store it, then hand its halved pixels to the next level.
    /// `data` nil: the unit was (partly) skipped on resume; so is its halved region.
    /// `objectInPiece`: its shard lies inside the piece being received (`objectInside`).
    private func complete(_ u: [Int], _ ur: Region, _ data: NDBuffer?, objectInPiece: Bool = false) throws {
        try store(u, ur, data, inMemory: objectInPiece)
        if let next {
            let origin = zip(ur.origin, factors).map { $0 / $1 }
            if let data {
                let small = try downsample(data, factors: factors, method: method)
                try next.receive(small, at: Region(origin: origin, shape: small.shape))
            } else {
                try next.skip(Region(origin: origin, shape: zip(ur.shape, factors).map { ($0 + $1 - 1) / $1 }))
            }
        }
        let finished: Summary? = state.withLock { s in
            s.unitsDone += 1
            return s.unitsDone == totalUnits ? s.summary : nil
        }
        if let finished { onDone(self, finished) }
    }

    private func store(_ u: [Int], _ ur: Region, _ pixels: NDBuffer?, inMemory: Bool) throws {
        let m = array.metadata
        let object = zip(u, unitsPerObject).map { $0 / $1 }
        let key = array.chunkKey(object)
        let skip = existing.contains(key)
        let deferred: Bool = state.withLock { s in
            if pixels == nil, !skip { s.deferred.insert(object) }
            return s.deferred.contains(object)
        }
        var full: NDBuffer?
        if !skip, !deferred, let data = pixels {
            full = data
            if ur.shape != unit {
                // Edge units are stored full size, padded with the fill value.
                var padded = NDBuffer(dataType: m.dataType, shape: unit, fill: m.fillValue)
                padded.paste(data, from: unit.map { _ in 0 }, to: unit.map { _ in 0 }, size: ur.shape)
                full = padded
            }
        }
        guard let sharding else {
            if deferred { return }
            let bytes = try full.map { try array.writeChunk(object, $0) } ?? 0
            if full != nil { try manifest?.record(key, size: bytes) }
            state.withLock { s in
                if skip { s.summary.skipped += 1 } else if bytes > 0 { s.summary.written += 1; s.summary.bytes += bytes }
            }
            return
        }
        var encoded: [UInt8]?
        if let full {
            do { encoded = try sharding.encodeInner(full, spec: m.chunkSpec) } catch let e as ZarrError {
                throw e.at(key: array.store.describe(key))
            }
        }
        let local = zip(zip(u, object), zip(unitsPerObject, cStrides(unitsPerObject))).map { ($0.0 - $0.1 * $1.0) * $1.1 }.reduce(0, +)
        func newAssembly() -> Assembly {
            Assembly(shard: ShardAssembly(codec: sharding, chunksPerShard: unitsPerObject),
                     expected: m.chunkRegion(object).gridCells(cellShape: unit).count)
        }
        // The chunk goes to the shard's spool outside the lock: only finding (or making)
        // the spool and recording where the chunk went are serialised. A shard whose units
        // all come from the piece being received keeps them in memory instead: it is
        // written before that piece is dropped, so it never waits long, and its chunks are
        // then written once, not twice.
        var piece: ShardAssembly.Piece?
        if let encoded, inMemory {
            piece = .bytes(encoded)
        } else if let encoded {
            let spool = try state.withLock { s throws -> ShardSpool in
                var a = s.shards[object] ?? newAssembly()
                if let spool = a.spool { return spool }
                let spool = try ShardSpool(for: array.store.describe(key))
                a.spool = spool
                s.shards[object] = a
                s.spools += 1
                return spool
            }
            piece = try spool.append(encoded)
        }
        let complete: Assembly? = state.withLock { s in
            var a = s.shards.removeValue(forKey: object) ?? newAssembly()
            a.shard.add(piece: piece, at: local)
            if a.shard.received == a.expected { return a }
            s.shards[object] = a
            return nil
        }
        guard let complete, !state.withLock({ $0.deferred.contains(object) }) else { return }
        if skip {
            state.withLock { $0.summary.skipped += 1 }
            return
        }
        // An all-fill shard is deleted, not written (ShardAssembly's rule).
        let bytes = try array.storeObject(key, complete.shard) { offset, length in
            guard let spool = complete.spool else {
                throw ZarrError.invalidRequest("internal error: shard \(key) has stored inner chunks but no spool")
            }
            return try spool.read(offset, length)
        }
        guard bytes > 0 else { return }
        state.withLock { s in
            s.summary.written += 1
            s.summary.bytes += bytes
        }
    }
}
