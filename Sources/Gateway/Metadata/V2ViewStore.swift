import Storage
import Synchronization
import ZarrCore

/// A Zarr v2 + NGFF 0.4 view of a Zarr v3 (NGFF 0.5) hierarchy, as a read-only `Store`
/// whose keys are the v2 keys (`tessera serve --v2-view` answers `/{root}/v2/{key}` from
/// it). Nothing is converted on disk and no chunk is decoded:
///
/// - a v3 group is a v2 group: `.zgroup`, and `.zattrs` with its NGFF 0.5 `ome`
///   attributes rewritten as 0.4 (`NGFF04Attributes`);
/// - a v3 array is a v2 array whose chunks are the v3 array's inner chunks (the shard's
///   `chunk_shape`, or the chunks themselves when it is not sharded): `.zarray` carries the
///   inner codec chain as v2's `order`/`dtype` byte order/`compressor`, and each v2 chunk
///   is the inner chunk's stored bytes, read from its shard by one ranged read (the shard
///   index is decoded once and cached). An inner chunk the index marks absent (all fill
///   value) is not there, so v2 readers use `fill_value`, as for a missing v2 chunk;
/// - an array whose inner chain v2 cannot express (a checksum such as crc32c, a transpose
///   other than Fortran order, several compressors, nested sharding) is not offered: its
///   keys throw `V2ViewRefusal` naming why, and consolidated metadata leaves it out.
///
/// Because it is a `Store`, ZarrCore's `ConsolidatedMetadataBuilder` walks it unchanged to
/// make the view's `.zmetadata`. Calls block, like every store's.
final class V2ViewStore: Store {
    /// The v3 hierarchy the view reads.
    let base: any Store
    private let nodes: ExpiringCache<String, ViewNode>
    private let indexes: ShardIndexCache

    /// `nodeLifetime`: how long a node's parsed `zarr.json` is reused before it is read
    /// again (as generated consolidated metadata is). Shard indexes need no lifetime: each
    /// chunk read checks that the shard is still the version its cached index came from.
    init(base: any Store, nodeLifetime: Duration = .seconds(5), maximumNodes: Int = 4096,
         maximumIndexEntries: Int = 1 << 20) {
        self.base = base
        nodes = ExpiringCache(lifetime: nodeLifetime, maximumEntries: maximumNodes)
        indexes = ShardIndexCache(maximumEntries: maximumIndexEntries)
    }

    // MARK: The view's documents and chunks

    /// A view object's bytes, and for an inner chunk the version of the shard it came from.
    struct Found: Sendable {
        let bytes: [UInt8]
        /// A keyed hash (this process's seed) of the shard's version and the chunk's span in
        /// it: the chunk's entity tag without hashing its bytes. Nil for documents.
        var version: UInt64?
        /// The shard's modification time (seconds since the epoch), when a file.
        var modified: Int?
    }

    func get(_ key: String) throws -> [UInt8]? { try find(key)?.bytes }

    /// The bytes under a view key with their version, or nil if there are none.
    func find(_ key: String) throws -> Found? {
        try StoreKey.validate(key)
        let (folder, name) = ConsolidatedMetadata.split(key)
        switch name {
        case ZarrKeys.group, ZarrKeys.array, ZarrKeys.attributes:
            return try documents(at: folder)?.first { $0.name == name }.map { Found(bytes: $0.bytes) }
        default:
            return try chunk(key)
        }
    }

    func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
        guard let bytes = try get(key) else { return nil }
        return Array(bytes[range.resolve(size: bytes.count)])
    }

    func size(_ key: String) throws -> Int? { try get(key)?.count }

    func describe(_ key: String) -> String { "v2 view of " + base.describe(key) }

    /// The v2 documents of the node at `folder` (name and bytes), or nil if there is no v3
    /// node there. Throws `V2ViewRefusal` for an array the view does not offer.
    func documents(at folder: String) throws -> [(name: String, bytes: [UInt8])]? {
        switch try node(at: folder) {
        case nil: return nil
        case let .group(attributes)?:
            return [(ZarrKeys.group, JSONValue.object(["zarr_format": 2]).compactSerialized()),
                    (ZarrKeys.attributes, attributes)]
        case let .array(array)?:
            return [(ZarrKeys.array, array.zarray), (ZarrKeys.attributes, array.attributes)]
        case let .refused(reason)?:
            throw V2ViewRefusal(key: base.describe(joinKey(folder, ZarrKeys.v3)), reason: reason)
        }
    }

    /// The stored bytes of the inner chunk a v2 chunk key names, or nil if the key names
    /// no chunk or the chunk is not stored. The key is resolved from the top: each folder
    /// on the way must be a group until one is an array, whose dimensions the rest of the
    /// key must name.
    private func chunk(_ key: String) throws -> Found? {
        let segments = key.split(separator: "/").map(String.init)
        for depth in 0..<segments.count {
            let folder = segments[..<depth].joined(separator: "/")
            switch try node(at: folder) {
            case nil: return nil
            case .group?: continue
            case let .refused(reason)?:
                throw V2ViewRefusal(key: base.describe(joinKey(folder, ZarrKeys.v3)), reason: reason)
            case let .array(array)?:
                guard let coords = array.v2.chunkKeyEncoding.coordinates(segments[depth...].joined(separator: "/"),
                                                                         dimensions: array.v2.dimensions)
                else { return nil }
                return try read(array, folder: folder, chunk: coords)
            }
        }
        return nil
    }

    private func read(_ array: ViewArray, folder: String, chunk coords: [Int]) throws -> Found? {
        guard zip(coords, array.v2.chunkGrid).allSatisfy({ $0 >= 0 && $0 < $1 }) else { return nil }
        guard let sharding = array.sharding else {
            // Not sharded: a v2 chunk is the v3 chunk, stored whole.
            let key = joinKey(folder, array.v3.chunkKeyEncoding.key(coords))
            return try base.get(key, limit: array.innerLimit).map { Found(bytes: $0) }
        }
        let perShard = sharding.chunksPerShard(array.v3.chunkShape)
        let shardKey = joinKey(folder, array.v3.chunkKeyEncoding.key(zip(coords, perShard).map { $0 / $1 }))
        let position = zip(zip(coords, perShard).map { $0 % $1 }, cStrides(perShard)).map { $0 * $1 }.reduce(0, +)
        // Read with the cached index; if the shard has been replaced since, once more with
        // its new index.
        for attempt in 0..<2 {
            guard let index = try indexes.index(of: shardKey, refresh: attempt > 0, load: {
                try loadIndex(shardKey, sharding: sharding, perShard: perShard)
            }) else { return nil }
            guard let entry = index.entries[position] else { return nil }
            guard entry.length <= array.innerLimit else {
                throw ZarrError.corruptChunk(key: base.describe(shardKey), reason:
                    "inner chunk \(coords) of \(entry.length) bytes is larger than the \(array.innerLimit) an inner chunk can take")
            }
            guard let read = try base.read(shardKey, range: .slice(offset: entry.offset, length: entry.length)) else {
                indexes.forget(shardKey)
                continue
            }
            if index.info.hasValidators, !read.info.isSameVersion(as: index.info) { continue }
            guard read.bytes.count == entry.length else {
                throw ZarrError.corruptChunk(key: base.describe(shardKey), reason: "shard is shorter than its index says")
            }
            var hasher = Hasher()
            hasher.combine(shardKey)
            hasher.combine(entry.offset)
            hasher.combine(entry.length)
            hasher.combine(read.info.size)
            hasher.combine(read.info.etag)
            hasher.combine(read.info.file)
            return Found(bytes: read.bytes, version: UInt64(UInt(bitPattern: hasher.finalize())),
                         modified: read.info.file?.modifiedSeconds)
        }
        throw StorageError.failed(key: base.describe(shardKey), reason: "the shard changed while its inner chunk was read")
    }

    /// The decoded index of one shard and the version it was read from; nil if there is
    /// no such shard (all its inner chunks are fill value).
    private func loadIndex(_ key: String, sharding: ShardingCodec, perShard: [Int]) throws -> ShardIndexCache.Index? {
        guard let size = sharding.indexByteCount(chunksPerShard: perShard) else {
            throw ZarrError.corruptChunk(key: base.describe(key), reason: "the index of a shard of \(perShard) inner chunks is too large to read")
        }
        let range: ByteRange = sharding.indexLocation == .start ? .slice(offset: 0, length: size) : .suffix(size)
        guard let read = try base.read(key, range: range) else { return nil }
        guard read.bytes.count == size, read.info.size >= size else {
            throw ZarrError.corruptChunk(key: base.describe(key), reason: "shard of \(read.info.size) bytes is shorter than its \(size)-byte index")
        }
        do {
            let entries = try sharding.decodeIndex(read.bytes, chunksPerShard: perShard, shardSize: read.info.size)
            return ShardIndexCache.Index(entries: entries, info: read.info)
        } catch let ZarrError.corruptChunk(_, reason) {
            throw ZarrError.corruptChunk(key: base.describe(key), reason: reason)
        }
    }

    // MARK: Nodes

    /// What the view makes of the v3 node at `folder` ("" is the root), nil if none.
    private func node(at folder: String) throws -> ViewNode? {
        try nodes.value(for: folder) { try self.readNode(at: folder) }
    }

    private func readNode(at folder: String) throws -> ViewNode? {
        let key = joinKey(folder, ZarrKeys.v3)
        let bytes: [UInt8]?
        do { bytes = try base.get(key, limit: WalkLimits.defaults.documentBytes) } catch let error as ObjectTooLarge {
            return .refused("\(error)")
        }
        guard let bytes else { return nil }
        do {
            let json = try JSONValue.parse(bytes, key: base.describe(key))
            guard json["zarr_format"]?.intValue == 3 else { return .refused("not a Zarr v3 node") }
            switch json["node_type"]?.stringValue {
            case "group":
                let attributes = NGFF04Attributes.converted(json["attributes"]?.objectValue ?? [:])
                return .group(attributes: JSONValue.object(attributes).compactSerialized())
            case "array":
                return .array(try ViewArray(v3: ArrayMetadata(v3: json, key: base.describe(key)), key: base.describe(key)))
            default:
                return .refused("node_type is neither 'group' nor 'array'")
            }
        } catch let error as V2ViewRefusal {
            return .refused(error.reason)
        } catch let error as ZarrError {
            return .refused("\(error)")
        }
    }

    // MARK: Listing (what the consolidated-metadata walk asks)

    func listFolder(_ folder: String) throws -> FolderListing? {
        let below = try base.listFolder(folder)
        let documents = try offered(at: folder)
        guard below != nil || documents != nil else { return nil }
        return FolderListing(objects: (documents ?? []).map { StoreEntry(key: $0.name, size: $0.bytes.count) },
                             folders: below?.folders ?? [])
    }

    func entries(named names: [String], in folder: String) throws -> [StoreEntry] {
        guard let documents = try offered(at: folder) else { return [] }
        return documents.filter { names.contains($0.name) }.map { StoreEntry(key: $0.name, size: $0.bytes.count) }
    }

    /// `documents(at:)`, with a node the view does not offer left out of listings (its own
    /// keys answer why); storage failures still fail.
    private func offered(at folder: String) throws -> [(name: String, bytes: [UInt8])]? {
        do { return try documents(at: folder) } catch is V2ViewRefusal { return nil }
    }

    func list(prefix: String) throws -> [StoreEntry] {
        throw StorageError.invalidRequest("the v2 view of \(base.describe(prefix)) is not listed whole")
    }

    // MARK: Read-only

    func set(_ key: String, _ bytes: [UInt8]) throws { throw readOnly(key) }
    func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool { throw readOnly(key) }
    func delete(_ key: String) throws { throw readOnly(key) }

    private func readOnly(_ key: String) -> StorageError {
        .invalidRequest("the v2 view of \(base.describe(key)) is read-only")
    }
}

/// Why the v2 view does not offer a node (the gateway answers its keys 404 and logs this).
struct V2ViewRefusal: Error, CustomStringConvertible {
    let key: String
    let reason: String
    var description: String { "the Zarr v2 view does not offer '\(key)': \(reason)" }
}

/// A v3 node as the view sees it; `refused` carries why it is not offered.
enum ViewNode: Sendable {
    case group(attributes: [UInt8])
    case array(ViewArray)
    case refused(String)
}

/// A v3 array and the v2 array the view shows for it.
struct ViewArray: Sendable {
    let v3: ArrayMetadata
    /// The v2 array: the inner chunk grid, the inner codec chain.
    let v2: ArrayMetadata
    /// The sharding codec, nil when the array is not sharded.
    let sharding: ShardingCodec?
    let zarray: [UInt8]
    let attributes: [UInt8]
    /// The most bytes one stored inner chunk can take (larger ones are corrupt).
    let innerLimit: Int

    /// Throws `V2ViewRefusal` when v2 cannot express the inner codec chain.
    init(v3: ArrayMetadata, key: String) throws {
        let inner: CodecPipeline, chunkShape: [Int]
        if v3.codecs.arrayToBytes is ShardingCodec {
            guard let sharding = v3.codecs.sharding else {
                throw V2ViewRefusal(key: key, reason: "an array→array codec before sharding_indexed")
            }
            (inner, chunkShape, self.sharding) = (sharding.codecs, sharding.innerChunkShape, sharding)
        } else {
            (inner, chunkShape, self.sharding) = (v3.codecs, v3.chunkShape, nil)
        }
        // Named first, as the reason readers most often meet (v2Metadata would count it as
        // a second compressor): a checksum such as crc32c has no v2 form.
        if let codec = inner.bytesToBytes.first(where: { $0.v2Metadata == nil }) {
            let name = codec.metadata["name"]?.stringValue ?? "\(codec.metadata)"
            throw V2ViewRefusal(key: key, reason: "inner codec '\(name)' has no Zarr v2 form")
        }
        var v2 = ArrayMetadata(format: .v2, shape: v3.shape, chunkShape: chunkShape, dataType: v3.dataType,
                               fillValue: v3.fillValue, codecs: inner, chunkKeyEncoding: .v2Nested)
        v2.attributes = v3.attributes
        do {
            try v2.validate(key: key)
            zarray = try v2.v2Metadata(key: key).compactSerialized()
        } catch let ZarrError.unsupported(_, what) {
            throw V2ViewRefusal(key: key, reason: "inner codecs: \(what)")
        }
        guard let limit = inner.maxEncodedSize(v2.chunkSpec) else {
            throw V2ViewRefusal(key: key, reason: "inner chunk shape \(chunkShape) is too large")
        }
        self.v3 = v3
        self.v2 = v2
        innerLimit = limit
        attributes = JSONValue.object(NGFF04Attributes.converted(v3.attributes)).compactSerialized()
    }
}

extension ObjectInfo {
    /// Whether two versions of the object can be told apart at all.
    var hasValidators: Bool { etag != nil || file != nil }
}
