import Foundation
import Storage
import Testing
@testable import Gateway
import ZarrCore

/// `V2ViewStore` (`tessera serve --v2-view`) on a small sharded v3 array in a folder:
/// chunks are inner-chunk bytes, a replaced shard is read with its new index, chains v2
/// cannot express are refused; and the NGFF 0.5 → 0.4 attribute rewrite.
@Suite final class V2ViewStoreTests {
    private var folders: [String] = []
    deinit { for folder in folders { try? FileManager.default.removeItem(atPath: folder) } }

    /// A v3 group with array "a": 8 x 8 uint8 in one 8 x 8 shard of four 4 x 4 inner
    /// chunks (bytes + zstd), and array "b" whose inner chain ends in crc32c.
    private func hierarchy() throws -> (FileStore, ZarrArray) {
        let folder = NSTemporaryDirectory() + "tessera-v2view-\(UUID().uuidString)"
        folders.append(folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let store = FileStore(path: folder)
        try store.set(ZarrKeys.v3, v3GroupMetadata(attributes: ["ome": ["version": "0.5", "multiscales": [["name": "x"]]]])
            .compactSerialized())
        func array(_ path: String, _ inner: [any BytesToBytesCodec]) throws -> ZarrArray {
            let sharding = ShardingCodec(innerChunkShape: [4, 4], codecs: CodecPipeline(arrayToBytes: BytesCodec(), bytesToBytes: inner))
            let metadata = ArrayMetadata(format: .v3, shape: [8, 8], chunkShape: [8, 8], dataType: .uint8,
                                         codecs: CodecPipeline(arrayToBytes: sharding))
            let array = ZarrArray(store: store, path: path, metadata: metadata)
            try array.writeMetadata()
            return array
        }
        _ = try array("b", [ZstdCodec(), CRC32CCodec()])
        return (store, try array("a", [ZstdCodec()]))
    }

    /// 8 x 8 pixels: inner chunk (0, 0) all `first` (0 leaves it out of the shard), the
    /// others `base` plus their position.
    private func pixels(first: UInt8, base: UInt8) -> NDBuffer {
        var bytes = [UInt8](repeating: 0, count: 64)
        for y in 0..<8 {
            for x in 0..<8 { bytes[y * 8 + x] = y < 4 && x < 4 ? first : base &+ UInt8(y * 8 + x) }
        }
        return NDBuffer(dataType: .uint8, shape: [8, 8], bytes: bytes)
    }

    private func decoded(_ chunk: [UInt8]?) throws -> [UInt8]? {
        try chunk.map { try ZstdCodec().decode($0, maxDecodedSize: 16) }
    }

    private func expected(_ data: NDBuffer, row: Int, col: Int) -> [UInt8] {
        (0..<4).flatMap { y in (0..<4).map { x in data.bytes[(row * 4 + y) * 8 + col * 4 + x] } }
    }

    @Test func chunksAreTheShardsInnerChunks() throws {
        let (store, array) = try hierarchy()
        let data = pixels(first: 0, base: 10)
        try array.write(Region(shape: [8, 8]), data)
        let view = V2ViewStore(base: store)
        #expect(try view.get("a/0/0") == nil)   // all fill: absent from the shard
        #expect(try decoded(view.get("a/0/1")) == expected(data, row: 0, col: 1))
        #expect(try decoded(view.get("a/1/1")) == expected(data, row: 1, col: 1))
        #expect(try view.get("a/2/0") == nil)   // outside the grid
        #expect(try view.get("a/0") == nil)     // not a chunk key of a 2-d array
        let zarray = try JSONValue.parse(try #require(try view.get("a/.zarray")), key: "a/.zarray")
        #expect(zarray["chunks"] == [4, 4])
        #expect(zarray["dtype"] == "|u1")
        #expect(zarray["dimension_separator"] == "/")
        #expect(zarray["compressor"]?["id"] == "zstd")
    }

    /// A shard replaced after its index was cached is read with its new index: the cached
    /// offsets would now point at another inner chunk's bytes.
    @Test func aReplacedShardIsReadWithItsNewIndex() throws {
        let (store, array) = try hierarchy()
        try array.write(Region(shape: [8, 8]), pixels(first: 0, base: 10))
        let view = V2ViewStore(base: store)
        #expect(try view.get("a/0/1") != nil)   // the index is cached now
        let second = pixels(first: 7, base: 100)
        try array.write(Region(shape: [8, 8]), second)
        #expect(try decoded(view.get("a/0/1")) == expected(second, row: 0, col: 1))
        #expect(try decoded(view.get("a/0/0")) == expected(second, row: 0, col: 0))
    }

    @Test func aChainV2CannotExpressIsRefusedAndLeftOut() throws {
        let (store, _) = try hierarchy()
        let view = V2ViewStore(base: store)
        #expect(throws: V2ViewRefusal.self) { try view.get("b/.zarray") }
        #expect(throws: V2ViewRefusal.self) { try view.get("b/0/0") }
        do {
            _ = try view.get("b/.zarray")
        } catch let refusal as V2ViewRefusal {
            #expect(refusal.reason.contains("crc32c"))
        }
        #expect(try view.entries(named: [ZarrKeys.array, ZarrKeys.group], in: "b").isEmpty)
        #expect(try view.entries(named: [ZarrKeys.array], in: "a").map(\.key) == [ZarrKeys.array])
        let zmetadata = try #require(try ConsolidatedMetadataBuilder.v2(view, group: "", limits: .defaults))
        let keys = zmetadata["metadata"]?.objectValue?.keys.sorted() ?? []
        #expect(keys == [".zattrs", ".zgroup", "a/.zarray", "a/.zattrs"])
    }

    @Test func groupAttributesBecomeNGFF04() throws {
        let (store, _) = try hierarchy()
        let attributes = try JSONValue.parse(try #require(try V2ViewStore(base: store).get(".zattrs")), key: ".zattrs")
        #expect(attributes == ["multiscales": [["name": "x", "version": "0.4"]]])
    }

    @Test func ngff05AttributesMoveToTheTopWithVersions() {
        let converted = NGFF04Attributes.converted([
            "ome": ["version": "0.5", "multiscales": [["name": "a"], ["name": "b"]], "omero": ["id": 1],
                    "plate": ["rows": []], "labels": ["cells"]],
            "other": true,
        ])
        #expect(converted == [
            "multiscales": [["name": "a", "version": "0.4"], ["name": "b", "version": "0.4"]],
            "omero": ["id": 1], "plate": ["rows": [], "version": "0.4"], "labels": ["cells"], "other": true,
        ])
        #expect(NGFF04Attributes.converted(["multiscales": []]) == ["multiscales": []])
    }

    @Test func theIndexCacheStaysWithinItsBound() throws {
        let cache = ShardIndexCache(maximumEntries: 10)
        func index(_ n: Int) -> ShardIndexCache.Index { .init(entries: Array(repeating: nil, count: n), info: ObjectInfo(size: 1)) }
        for key in ["a", "b", "c", "d"] { _ = try cache.index(of: key, refresh: false) { index(4) } }
        #expect(cache.heldEntries <= 10)
        var loads = 0
        for _ in 0..<2 { _ = try cache.index(of: "huge", refresh: false) { loads += 1; return index(11) } }
        #expect(loads == 2)   // larger than the bound: never kept
        #expect(cache.heldEntries <= 10)
    }
}
