import Storage

/// One Zarr array in a store: region reads and writes over its chunk grid.
///
/// Reads fetch only the chunks a region touches; on sharded arrays they fetch only the
/// inner chunks it touches (index first, then ranged reads, inner chunks lying close
/// together in the shard sharing one: `CoalescedReads`), unless the region covers the
/// whole shard, which is one read. Writes of whole chunks (or whole
/// shards) encode and store each object once; partial writes read-modify-write.
public final class ZarrArray: Sendable {
    public let store: any Store
    /// The array's key prefix in the store ("" for a root array).
    public let path: String
    public let metadata: ArrayMetadata
    /// Worker threads for region reads and writes.
    public let concurrency: Int
    /// Where region reads keep decoded chunks (inner chunks, when sharded) for the next
    /// read that needs them, and count decodes; nil decodes every time.
    public let decodedChunks: DecodedChunkCache?

    public init(store: any Store, path: String, metadata: ArrayMetadata, concurrency: Int = defaultConcurrency,
                decodedChunks: DecodedChunkCache? = nil) {
        self.store = store
        self.path = path
        self.metadata = metadata
        self.concurrency = concurrency
        self.decodedChunks = decodedChunks
    }

    /// Opens the array at `path`, v3 (`zarr.json`) or v2 (`.zarray` + `.zattrs`).
    public static func open(store: any Store, path: String, concurrency: Int = defaultConcurrency) throws -> ZarrArray {
        guard case let .array(metadata) = try Node.open(store: store, path: path) else {
            throw ZarrError.nodeNotFound(path: store.describe(path))
        }
        return ZarrArray(store: store, path: path, metadata: metadata, concurrency: concurrency)
    }

    /// Writes the array's metadata document(s). Callers that want readers to see only
    /// complete arrays write chunks first and call this last.
    public func writeMetadata() throws {
        try Node.writeArrayMetadata(metadata, store: store, path: path)
    }

    // MARK: chunks

    public func chunkKey(_ coords: [Int]) -> String { joinKey(path, metadata.chunkKeyEncoding.key(coords)) }

    /// Every chunk (or shard) coordinate of the grid, in C order, computed on demand.
    public var allChunkCoordinates: GridBox { GridBox(origin: metadata.chunkGrid.map { _ in 0 }, counts: metadata.chunkGrid) }

    /// The chunks (or shards) of this array that `entries` (a listing of its store) name,
    /// skipping metadata, other names and keys outside the grid: for visiting what is
    /// stored when the grid itself may be far too large to walk.
    public func storedChunks(in entries: [StoreEntry]) -> [(coords: [Int], entry: StoreEntry)] {
        let prefix = path.isEmpty ? "" : path + "/"
        let grid = metadata.chunkGrid
        return entries.compactMap { entry in
            guard entry.key.hasPrefix(prefix),
                  let c = metadata.chunkKeyEncoding.coordinates(String(entry.key.dropFirst(prefix.count)), dimensions: metadata.dimensions),
                  zip(c, grid).allSatisfy({ $0 < $1 }) else { return nil }
            return (c, entry)
        }
    }

    /// The decoded chunk at `coords` (full chunk shape, edge padding included), or nil if
    /// it is not stored.
    public func readChunk(_ coords: [Int]) throws -> NDBuffer? {
        let key = chunkKey(coords)
        guard let bytes = try getObject(key) else { return nil }
        return try decodeChunk(bytes, key: key)
    }

    /// The most bytes one stored object of this array may take: what its codecs can
    /// make of a full chunk, and never more than `Limits.objectBytes`.
    var objectLimit: Int { min(metadata.codecs.maxEncodedSize(metadata.chunkSpec) ?? Limits.objectBytes, Limits.objectBytes) }

    /// A whole stored object, refused unread when it is larger than the metadata allows
    /// (a 64 GiB sparse file where a 512-byte chunk belongs).
    func getObject(_ key: String) throws -> [UInt8]? {
        do { return try store.get(key, limit: objectLimit) } catch let e as ObjectTooLarge {
            throw ZarrError.corruptChunk(key: store.describe(key), reason: "stored object of \(e) by the array's metadata")
        }
    }

    func decodeChunk(_ bytes: [UInt8], key: String) throws -> NDBuffer {
        do {
            return try metadata.codecs.decode(bytes, spec: metadata.chunkSpec)
        } catch let e as ZarrError {
            throw e.at(key: store.describe(key))
        }
    }

    /// Whether an object is stored at `coords`; throws if it is stored but does not decode.
    public func verifyChunk(_ coords: [Int]) throws -> Bool {
        (try readChunk(coords)) != nil
    }

    /// Encodes and stores a full chunk; a chunk that is all fill value is deleted instead,
    /// as readers fill missing chunks anyway (`storeObject`). `concurrency` threads
    /// compress the inner chunks of a shard (use it when fewer shards than cores are being
    /// written). Returns the number of bytes stored (0 for a fill-only chunk).
    @discardableResult
    public func writeChunk(_ coords: [Int], _ chunk: NDBuffer, concurrency: Int = 1) throws -> Int {
        guard chunk.shape == metadata.chunkShape, chunk.dataType == metadata.dataType else {
            throw ZarrError.invalidRequest("chunk of shape \(chunk.shape) does not match the chunk shape \(metadata.chunkShape)")
        }
        let key = chunkKey(coords)
        let bytes: [UInt8]?
        do {
            if let sharding = metadata.codecs.sharding {
                bytes = try sharding.assembly(chunk, spec: metadata.chunkSpec, concurrency: concurrency).object()
            } else {
                bytes = chunk.isUniform(metadata.fillValue) ? nil : try metadata.codecs.encode(chunk, spec: metadata.chunkSpec)
            }
        } catch let e as ZarrError {
            throw e.at(key: store.describe(key))
        }
        return try storeObject(key, bytes)
    }

    /// Stores a chunk's or shard's encoded bytes under `key`, or, when there are none (it is
    /// all fill value, see `ShardAssembly`), deletes `key`: such an object must not exist,
    /// and one an earlier run left there must not survive. Returns the bytes stored.
    @discardableResult
    public func storeObject(_ key: String, _ bytes: [UInt8]?) throws -> Int {
        guard let bytes else {
            try store.delete(key)
            return 0
        }
        try store.set(key, bytes)
        return bytes.count
    }

    /// Stores a shard from its assembly, streamed through `store.writer(for:)` (a
    /// temporary file renamed into place, an S3 upload in bounded parts): its bytes are
    /// never whole in memory; `read(offset, length)` hands back the inner chunks the
    /// assembly holds as kept pieces. The all-fill rule as in `storeObject(_:_:)`.
    /// Returns the bytes stored.
    @discardableResult
    public func storeObject(_ key: String, _ shard: ShardAssembly, reading read: (Int, Int) throws -> [UInt8]) throws -> Int {
        if shard.isAllFill { return try storeObject(key, nil) }
        let writer = try store.writer(for: key)
        do {
            let count = try shard.write(to: { try writer.append($0) }, reading: read)
            try writer.finish()
            return count
        } catch {
            writer.abort()
            if let e = error as? ZarrError { throw e.at(key: store.describe(key)) }
            throw error
        }
    }

    // MARK: regions

    /// Chunk coordinates whose chunks intersect `region`.
    func chunks(touching region: Region) -> GridBox { region.gridBox(cellShape: metadata.chunkShape) }

    func checkBounds(_ region: Region) throws {
        guard region.origin.count == metadata.dimensions, region.shape.count == metadata.dimensions,
              Region(shape: metadata.shape).contains(region), region.origin.allSatisfy({ $0 >= 0 }),
              region.shape.allSatisfy({ $0 >= 0 }) else {
            throw ZarrError.invalidRequest("region \(region) is outside the array of shape \(metadata.shape) at '\(store.describe(path))'")
        }
    }

    /// Reads `region` into a new buffer; missing chunks read as the fill value.
    public func read(_ region: Region) throws -> NDBuffer {
        try checkBounds(region)
        if region.isEmpty { return NDBuffer(dataType: metadata.dataType, shape: region.shape, bytes: []) }
        let coords = chunks(touching: region)
        let m = metadata
        let innerWidth = max(1, concurrency / coords.count)
        // The output starts uninitialised: every part of it is written exactly once, by a
        // decoded chunk or, where nothing is stored, by the fill value.
        let count = region.elementCount * m.dataType.size
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
            initialized = count
            do { try readChunks(coords, of: region, into: SharedPointer(base: UnsafeMutableRawPointer(raw.baseAddress!)), innerWidth: innerWidth) } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return NDBuffer(dataType: m.dataType, shape: region.shape, bytes: bytes)
    }

    private func readChunks(_ coords: GridBox, of region: Region, into target: SharedPointer, innerWidth: Int) throws {
        let m = metadata
        try parallelFor(coords.count, width: concurrency) { i in
            let chunkRegion = m.chunkRegion(coords[i])
            let overlap = chunkRegion.intersection(region)!
            let local = zip(overlap.origin, chunkRegion.origin).map { $0 - $1 }
            let at = zip(overlap.origin, region.origin).map { $0 - $1 }
            if let sharding = m.codecs.sharding {
                try self.readShard(coords[i], sharding: sharding, want: Region(origin: local, shape: overlap.shape),
                                   whole: overlap == chunkRegion, width: innerWidth, into: target, outShape: region.shape, at: at)
                return
            }
            guard let chunk = try self.cached(self.chunkKey(coords[i]), { try self.readChunk(coords[i]) }) else {
                fillBlock(dst: target.base, shape: region.shape, origin: at, size: overlap.shape, pattern: m.fillValue.bytes)
                return
            }
            chunk.bytes.withUnsafeBytes { src in
                copyBlock(src: src.baseAddress!, srcShape: chunk.shape, srcOrigin: local,
                          dst: target.base, dstShape: region.shape, dstOrigin: at,
                          size: overlap.shape, elementSize: m.dataType.size)
            }
        }
    }

    /// Reads the part `want` (in shard-local coordinates) of one shard, decoding each
    /// needed inner chunk straight into the output. When the whole shard is wanted it is
    /// fetched in one read; otherwise the index is fetched first and then only the inner
    /// chunks that overlap `want`, those lying close together in the file in one ranged
    /// read (`CoalescedReads`).
    private func readShard(_ coords: [Int], sharding: ShardingCodec, want: Region, whole: Bool, width: Int,
                           into target: SharedPointer, outShape: [Int], at: [Int]) throws {
        let key = chunkKey(coords)
        let grid = sharding.chunksPerShard(metadata.chunkShape)
        let fill = metadata.fillValue.bytes
        /// Where the shard-local position `local` (inside `want`) lands in the output.
        @Sendable func outputOrigin(_ local: [Int]) -> [Int] { zip(zip(local, want.origin).map { $0 - $1 }, at).map { $0 + $1 } }
        /// Fills the part `part` (shard-local) of the output with the fill value.
        @Sendable func fillOutput(_ part: Region) {
            fillBlock(dst: target.base, shape: outShape, origin: outputOrigin(part.origin), size: part.shape, pattern: fill)
        }
        let store = self.store
        @Sendable func corruptShard(_ reason: String) -> ZarrError { .corruptChunk(key: store.describe(key), reason: reason) }
        guard let indexSize = sharding.indexByteCount(chunksPerShard: grid) else {
            throw corruptShard("the index of a shard of \(grid) inner chunks is too large to read")
        }
        guard let innerLimit = sharding.maxInnerSize(metadata.chunkSpec) else {
            throw corruptShard("inner chunk shape \(sharding.innerChunkShape) is too large")
        }

        // Either the whole shard in memory, or its size for ranged reads.
        let shardBytes: [UInt8]?
        let shardSize: Int
        if whole {
            guard let all = try getObject(key) else { return fillOutput(want) }
            shardBytes = all
            shardSize = all.count
        } else {
            guard let size = try store.size(key) else { return fillOutput(want) }
            guard size <= objectLimit else { throw corruptShard("stored object of \(size) bytes, over the \(objectLimit) allowed by the array's metadata") }
            shardBytes = nil
            shardSize = size
        }
        guard shardSize >= indexSize else { throw corruptShard("shard of \(shardSize) bytes is shorter than its \(indexSize)-byte index") }
        @Sendable func fetch(_ r: Range<Int>) throws -> [UInt8] {
            if let shardBytes { return Array(shardBytes[r]) }
            guard let bytes = try store.get(key, range: .slice(offset: r.lowerBound, length: r.count)), bytes.count == r.count else {
                throw corruptShard("shard is shorter than its index says")
            }
            return bytes
        }
        let entries: [ShardingCodec.Entry?]
        do {
            entries = try sharding.decodeIndex(try fetch(sharding.indexRange(shardSize: shardSize, indexSize: indexSize)),
                                               chunksPerShard: grid, shardSize: shardSize)
        } catch let e as ZarrError {
            throw e.at(key: store.describe(key))
        }
        let inner = sharding.innerChunkShape
        let strides = cStrides(grid)
        let wanted = want.gridBox(cellShape: inner)
        let spec = metadata.chunkSpec, elementSize = metadata.dataType.size
        // Every stored inner chunk wanted, checked before any of them is read.
        var storedList: [(w: Int, entry: ShardingCodec.Entry)] = []
        for w in 0..<wanted.count {
            let ci = wanted[w]
            guard let e = entries[zip(ci, strides).map { $0 * $1 }.reduce(0, +)] else { continue }
            guard e.length <= innerLimit else {
                throw corruptShard("inner chunk \(ci) of \(e.length) bytes is larger than the \(innerLimit) an inner chunk can take")
            }
            storedList.append((w, e))
        }
        let stored = storedList
        let ranges = stored.map { $0.entry.offset..<($0.entry.offset + $0.entry.length) }
        // A shard already in memory is sliced per inner chunk: joining would copy twice.
        let plan = shardBytes == nil ? CoalescedReads(ranges) : CoalescedReads(ranges, maxGap: 0, maxSpan: 0)
        let reads = plan.reads.map { _ in SharedRead() }
        var storedAt = [Int?](repeating: nil, count: wanted.count)
        for (k, s) in stored.enumerated() { storedAt[s.w] = k }
        try parallelFor(wanted.count, width: width) { [storedAt] w in
            let ci = wanted[w]
            let chunkRegion = Region(origin: zip(ci, inner).map { $0 * $1 }, shape: inner)
            let overlap = chunkRegion.intersection(want)!
            guard let k = storedAt[w] else { return fillOutput(overlap) }
            let e = stored[k].entry, r = plan.readOf[k], read = plan.reads[r]
            let decoded: NDBuffer?
            do {
                decoded = try self.cached(key + "#\(ci)") {
                    let bytes = try reads[r].get { try fetch(read) }
                    let start = e.offset - read.lowerBound
                    let encoded = bytes.count == e.length ? bytes : Array(bytes[start..<(start + e.length)])
                    return try sharding.decodeInner(encoded, spec: spec)
                }
            } catch let err as ZarrError {
                throw err.at(key: store.describe(key) + " (inner chunk \(ci))")
            }
            guard let chunk = decoded else { return fillOutput(overlap) }
            chunk.bytes.withUnsafeBytes { src in
                copyBlock(src: src.baseAddress!, srcShape: inner, srcOrigin: zip(overlap.origin, chunkRegion.origin).map { $0 - $1 },
                          dst: target.base, dstShape: outShape, dstOrigin: outputOrigin(overlap.origin),
                          size: overlap.shape, elementSize: elementSize)
            }
        }
    }

    /// `decode`, through `decodedChunks` when there is one. `id` names the decoded chunk:
    /// a chunk's key, or a shard's key and an inner chunk's position.
    /// `id` is only made when there is a cache (an inner chunk's name costs an array's
    /// description, per inner chunk of every render).
    private func cached(_ id: @autoclosure () -> String, _ decode: () throws -> NDBuffer?) throws -> NDBuffer? {
        guard let decodedChunks else { return try decode() }
        return try decodedChunks.chunk(id(), decode: decode)
    }

    /// Writes `data` at `region`. Chunks the region covers entirely are encoded straight
    /// from `data`; chunks it covers in part are read, patched and rewritten.
    public func write(_ region: Region, _ data: NDBuffer) throws {
        try checkBounds(region)
        guard data.shape == region.shape, data.dataType == metadata.dataType else {
            throw ZarrError.invalidRequest("data of shape \(data.shape) (\(data.dataType.rawValue)) does not fit region \(region) of \(metadata.dataType.rawValue)")
        }
        if region.isEmpty { return }
        let coords = chunks(touching: region)
        let m = metadata
        let innerWidth = max(1, concurrency / coords.count)
        try parallelFor(coords.count, width: concurrency) { i in
            let chunkRegion = m.chunkRegion(coords[i])
            let overlap = chunkRegion.intersection(region)!
            var chunk: NDBuffer
            if overlap == chunkRegion {
                chunk = NDBuffer(dataType: m.dataType, shape: m.chunkShape, fill: m.fillValue)
            } else {
                chunk = try self.readChunk(coords[i]) ?? NDBuffer(dataType: m.dataType, shape: m.chunkShape, fill: m.fillValue)
            }
            if overlap == chunkRegion, chunkRegion.shape == m.chunkShape, overlap.shape == region.shape {
                chunk = data
            } else {
                chunk.paste(data, from: zip(overlap.origin, region.origin).map { $0 - $1 },
                            to: zip(overlap.origin, chunkRegion.origin).map { $0 - $1 }, size: overlap.shape)
            }
            try self.writeChunk(coords[i], chunk, concurrency: innerWidth)
        }
    }

    /// Reads the whole array.
    public func readAll() throws -> NDBuffer { try read(Region(shape: metadata.shape)) }
}
