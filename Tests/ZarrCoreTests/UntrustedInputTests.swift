import Foundation
import Storage
import Testing
@testable import ZarrCore

/// Issue 21: sizes, headers and documents read from storage are bounded before they
/// are believed (the crafted files themselves are in Tests/Conformance/copy/test_copy_untrusted_zarr.py).
@Suite struct UntrustedInputTests {
    // MARK: 1. overflow-checked size arithmetic

    @Test(arguments: [
        ([1 << 62, 1 << 62], [16, 16]),
        ([Int.max, Int.max], [16, 16]),
        ([1 << 62, 1 << 62], [1 << 40, 1 << 40]),
        ([1 << 62, 16], [1 << 62, 4]),
    ])
    func overflowingShapesAreMetadataErrors(shape: [Int], chunks: [Int]) {
        let m = ArrayMetadata(format: .v3, shape: shape, chunkShape: chunks, dataType: .uint16)
        #expect { try m.validate(key: "a/zarr.json") } throws: { "\($0)".contains("a/zarr.json") }
    }

    @Test func gridRoundingNearIntMaxIsExact() throws {
        let m = ArrayMetadata(format: .v3, shape: [Int.max], chunkShape: [1000], dataType: .uint8)
        try m.validate(key: "k")
        #expect(m.chunkGrid == [Int.max / 1000 + 1])
        #expect(Region(origin: [Int.max - 5], shape: [5]).gridCells(cellShape: [1000]) == [[Int.max / 1000]])
        #expect(ceilDiv(Int.max, 1) == Int.max && ceilDiv(0, 7) == 0 && ceilDiv(7, 7) == 1 && ceilDiv(8, 7) == 2)
        #expect(checkedProduct([1 << 62, 4]) == nil && checkedProduct([1 << 62, 1 << 62, 0]) == 0)
        #expect(unravel(7, [2, 3, 4]) == [0, 1, 3])
        // Cells are computed on demand: 10^10 of them cost nothing until visited.
        let box = Region(origin: [3, 0], shape: [99_997, 100_000]).gridBox(cellShape: [1, 1])
        #expect(box.count == 9_999_700_000 && box[0] == [3, 0] && box[box.count - 1] == [99_999, 99_999])
    }

    // MARK: 2, 3. decoders stop at the size a chunk needs

    @Test func zstdDeclaredContentSizeIsNotTrusted() {
        // A 529-byte frame whose header declares 2^40 bytes, then one raw block of 512.
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xC0, 0x00]
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { frame += $0 }
        frame += [UInt8(truncatingIfNeeded: 1 | 512 << 3), UInt8((512 << 3) >> 8), 0] + [UInt8](repeating: 7, count: 512)
        #expect { try ZstdCodec().decode(frame, maxDecodedSize: 512) } throws: { "\($0)".contains("declares 1099511627776") }
    }

    @Test func zstdWithoutContentSizeStopsOneBytePastTheBound() throws {
        // RLE blocks of 128 KiB, 4 bytes each: 64 MiB from 2 KiB, no content size.
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38]
        let blocks = 512, size = 128 << 10
        for i in 0..<blocks {
            let header = (i == blocks - 1 ? 1 : 0) | 1 << 1 | size << 3
            frame += [UInt8(header & 0xff), UInt8((header >> 8) & 0xff), UInt8(header >> 16), 0x2a]
        }
        #expect(try ZstdCodec().decode(frame, maxDecodedSize: blocks * size).count == blocks * size)
        #expect(throws: ZarrError.self) { try ZstdCodec().decode(frame, maxDecodedSize: 512) }
    }

    @Test(arguments: [ZstdCodec(level: 3) as any BytesToBytesCodec, GzipCodec(level: 5, framing: .gzip),
                      GzipCodec(level: 1, framing: .zlib), BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2),
                      CRC32CCodec()])
    func everyDecoderRefusesOutputPastItsBound(_ codec: any BytesToBytesCodec) throws {
        let input = [UInt8](repeating: 3, count: 1 << 20)
        let encoded = try codec.encode(input)
        #expect(try codec.decode(encoded, maxDecodedSize: input.count) == input)
        #expect(throws: ZarrError.self, "\(codec.metadata)") { try codec.decode(encoded, maxDecodedSize: input.count - 1) }
        #expect(throws: ZarrError.self, "\(codec.metadata)") { try codec.decode(encoded, maxDecodedSize: 512) }
    }

    @Test func pipelineBoundsFollowTheChain() {
        let spec = ChunkSpec(shape: [16, 16], dataType: .uint16, fillValue: .zero(.uint16))
        let p = CodecPipeline(bytesToBytes: [ZstdCodec(), CRC32CCodec()])
        #expect(p.encodedSizeBounds(spec) == [512, Limits.compressedBound(512)!, Limits.compressedBound(512)! + 4])
        let sharded = CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [8, 8], codecs: CodecPipeline()))
        #expect(sharded.maxEncodedSize(spec) == 4 * 128 + 4 * 16 + 4)
    }

    // MARK: 4. whole-object reads are capped

    @Test func oversizedChunkFileIsRefusedUnread() throws {
        let folder = TemporaryFolder()
        let m = ArrayMetadata(format: .v3, shape: [16, 16], chunkShape: [16, 16], dataType: .uint16,
                              codecs: CodecPipeline(bytesToBytes: [ZstdCodec()]))
        let a = ZarrArray(store: folder.store, path: "", metadata: m)
        try a.writeChunk([0, 0], NDBuffer(dataType: .uint16, shape: [16, 16], fill: FillValue(bytes: [1, 0])))
        let path = folder.url.appendingPathComponent("c/0/0").path
        #expect(truncate(path, 64 << 30) == 0) // sparse: costs no disk
        #expect { try a.readChunk([0, 0]) } throws: { "\($0)".contains("68719476736 bytes") && "\($0)".contains("c/0/0") }
        #expect { try folder.store.get("c/0/0", limit: 100) } throws: { ($0 as? ObjectTooLarge)?.size == 64 << 30 }
        #expect { try MemoryStore.with("k", [1, 2, 3]).get("k", limit: 2) } throws: { $0 is ObjectTooLarge }
        #expect(try MemoryStore.with("k", [1, 2, 3]).get("k", limit: 3) == [1, 2, 3])
    }

    @Test func shardIndexTooLargeToReadIsAnErrorNotFill() throws {
        let store = MemoryStore()
        let m = ArrayMetadata(format: .v3, shape: [1000, 1000, 1000], chunkShape: [1000, 1000, 1000], dataType: .uint8,
                              codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [1, 1, 1], codecs: CodecPipeline())))
        try m.validate(key: "k")
        try store.set("c/0/0/0", [UInt8](repeating: 0, count: 64))
        let a = ZarrArray(store: store, path: "", metadata: m, concurrency: 1)
        #expect { try a.read(Region(origin: [0, 0, 0], shape: [1, 1, 2])) } throws: { "\($0)".contains("c/0/0/0") }
    }

    // MARK: 5. only regular files are objects

    @Test func fifoIsAnErrorNotAHang() throws {
        let folder = TemporaryFolder()
        try folder.store.set("x", [1])
        let path = folder.url.appendingPathComponent("fifo").path
        #expect(mkfifo(path, 0o600) == 0)
        #expect { try folder.store.get("fifo") } throws: { "\($0)".contains("not a regular file") }
        #expect { try folder.store.get("fifo", limit: 10) } throws: { "\($0)".contains("not a regular file") }
        #expect { try folder.store.size("fifo") } throws: { "\($0)".contains("not a regular file") }
        #expect(try folder.store.list(prefix: "").map(\.key) == ["x"])
    }

    // MARK: 6. duplicate keys and document size

    @Test func duplicateKeysAreRejected() throws {
        for text in [#"{"shape": [1], "shape": [2]}"#, #"{"a": {"b": 1, "b": 2}}"#, #"{"sha\u0070e": 1, "shape": 2}"#,
                     #"[{"x": 1}, {"y": {"\ud83d\ude00": 1, "😀": 2}}]"#] {
            #expect(throws: ZarrError.self, "\(text)") { try JSONValue.parse(Array(text.utf8), key: "k") }
        }
        for text in [#"{"a": {"b": 1}, "b": {"a": 1}}"#, #"[{"x": 1}, {"x": 2}]"#, #"{"k": "\"k\"", "v": ["k", "k"]}"#] {
            #expect(throws: Never.self, "\(text)") { try JSONValue.parse(Array(text.utf8), key: "k") }
        }
        let big = [UInt8](repeating: UInt8(ascii: " "), count: Limits.metadataBytes + 1)
        #expect { try JSONValue.parse(big, key: "k") } throws: { "\($0)".contains("limit") }
    }

    @Test func chunkKeysParseBack() {
        for e in [ChunkKeyEncoding.v3Default, .v2Nested, ChunkKeyEncoding(kind: .v2, separator: "."), ChunkKeyEncoding(kind: .default, separator: ".")] {
            #expect(e.coordinates(e.key([3, 0, 12]), dimensions: 3) == [3, 0, 12])
            #expect(e.coordinates(e.key([]), dimensions: 0) == [])
            #expect(e.coordinates(e.key([1, 2]), dimensions: 3) == nil)
            #expect(e.coordinates("zarr.json", dimensions: 1) == nil)
        }
        #expect(ChunkKeyEncoding.v3Default.coordinates("c/-1/2", dimensions: 2) == nil)
    }
}

extension MemoryStore {
    static func with(_ key: String, _ bytes: [UInt8]) throws -> MemoryStore {
        let s = MemoryStore()
        try s.set(key, bytes)
        return s
    }
}
