import Storage
import Synchronization
import ZarrCore

/// On `--resume`: which stored chunks or shards of a level may be kept. A kill leaves
/// only whole objects (they are renamed into place), but a disk or a person can damage
/// one afterwards; keeping it would make the finished image unreadable. So each listed
/// object is checked before it is trusted — a shard by its index (read alone, by range:
/// its crc32c and every entry inside the shard's size), a plain chunk by its size against
/// the level's `ObjectManifest` (no line: redone; no manifest at all: by decoding it) —
/// and one that fails is deleted (it is Tessera's own, under a level it wrote) and redone.
/// A chunk the manifest records as all fill (size 0, not stored) is kept as absent.
struct KeptObjects {
    var kept: Set<String> = []
    var damaged: [String] = []

    /// Nothing stored yet.
    init() {}

    init(listed: [StoreEntry], array: ZarrArray, jobs: Int, manifest: [String: Int]? = nil) throws {
        try check(listed, array: array, jobs: jobs, manifest: manifest)
        try finish(array: array, manifest: manifest)
    }

    /// The level's objects listed page by page, so a level of millions of chunks is never
    /// held as one listing (what is kept is still remembered by key).
    init(listingPagesOf array: ZarrArray, jobs: Int, manifest: [String: Int]?) throws {
        let metadataNames = ZarrKeys.nodeMetadata
        try array.store.listPages(prefix: array.path.isEmpty ? "" : array.path + "/") { page in
            try check(page.filter { !metadataNames.contains(String($0.key.split(separator: "/").last ?? "")) },
                      array: array, jobs: jobs, manifest: manifest)
        }
        try finish(array: array, manifest: manifest)
    }

    /// Checks the objects of one listing page.
    private mutating func check(_ listed: [StoreEntry], array: ZarrArray, jobs: Int, manifest: [String: Int]?) throws {
        let m = array.metadata
        // Only what the listing names: the grid itself may be far larger than what is stored.
        let candidates = array.storedChunks(in: listed).map { (coords: $0.coords, key: $0.entry.key, size: $0.entry.size) }
        let result = Mutex((kept: Set<String>(), damaged: [String]()))
        try parallelFor(candidates.count, width: max(1, jobs)) { i in
            let (coords, key, size) = candidates[i]
            let good: Bool
            if let sharding = m.codecs.sharding {
                good = Self.shardIndexIsSound(key, size: size, sharding: sharding,
                                              chunksPerShard: sharding.chunksPerShard(m.chunkShape), store: array.store)
            } else if let manifest {
                guard let recorded = manifest[key] else { return }  // landed, not recorded: redone
                good = recorded == size
            } else {
                good = (try? array.verifyChunk(coords)) == true
            }
            result.withLock { if good { $0.kept.insert(key) } else { $0.damaged.append(key) } }
        }
        result.withLock {
            kept.formUnion($0.kept)
            damaged += $0.damaged
        }
    }

    /// After every page: chunks recorded as all fill (and not found damaged) are kept as
    /// absent, and damaged objects are deleted.
    private mutating func finish(array: ZarrArray, manifest: [String: Int]?) throws {
        damaged.sort()
        if array.metadata.codecs.sharding == nil, let manifest {
            // A listed key the manifest records as 0 is kept or damaged already; an unlisted
            // one is an all-fill chunk that was rightly not stored.
            let refused = Set(damaged)
            kept.formUnion(manifest.lazy.filter { $0.value == 0 && !refused.contains($0.key) }.map(\.key))
        }
        for key in damaged { try array.store.delete(key) }
    }

    /// The shard's index is present, passes its checksum, and points inside the shard.
    static func shardIndexIsSound(_ key: String, size: Int, sharding: ShardingCodec, chunksPerShard: [Int], store: any Store) -> Bool {
        guard let indexSize = sharding.indexByteCount(chunksPerShard: chunksPerShard), size >= indexSize else { return false }
        let range: ByteRange = sharding.indexLocation == .end ? .suffix(indexSize) : .slice(offset: 0, length: indexSize)
        guard let bytes = try? store.get(key, range: range), bytes.count == indexSize,
              let entries = try? sharding.decodeIndex(bytes, chunksPerShard: chunksPerShard, shardSize: size) else { return false }
        // Inner chunks lie outside the index; a shard Tessera wrote holds at least one
        // (an all-fill shard is not stored).
        let data = sharding.indexLocation == .end ? 0..<(size - indexSize) : indexSize..<size
        let stored = entries.compactMap { $0 }
        return !stored.isEmpty && stored.allSatisfy { $0.offset >= data.lowerBound && $0.offset + $0.length <= data.upperBound }
    }
}
