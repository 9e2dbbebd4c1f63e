@testable import Conversion
import Foundation
import Storage
import Testing
import ZarrCore

@Suite struct ZarrCopyTests {
    func sourceArray(_ store: any Store) throws -> NDBuffer {
        let m = ArrayMetadata(format: .v2, shape: [20, 30], chunkShape: [7, 8], dataType: .uint16,
                              codecs: CodecPipeline(bytesToBytes: [BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2)]),
                              chunkKeyEncoding: ChunkKeyEncoding(kind: .v2, separator: "."))
        let a = ZarrArray(store: store, path: "0", metadata: m)
        let data = NDBuffer(dataType: .uint16, shape: [20, 30], bytes: (0..<600).flatMap { [UInt8($0 % 251), UInt8($0 / 251)] })
        try a.write(Region(shape: [20, 30]), data)
        try a.writeMetadata()
        try Node.writeGroupMetadata(format: .v2, attributes: ["multiscales": [["version": "0.4", "axes": [["name": "y"], ["name": "x"]], "datasets": [["path": "0"]]]]],
                                    store: store, path: "")
        return data
    }

    @Test func v2GroupToShardedV3AndBack() throws {
        let src = MemoryStore()
        let data = try sourceArray(src)
        let v3 = MemoryStore()
        let s = try ZarrCopy(source: src, sourcePath: "", destination: v3, destinationPath: "",
                             options: CopyOptions(format: .v3, chunks: [5, 10], shards: [10, 20], codec: .bloscZstd, jobs: 3), log: { _ in }).run()
        #expect(s.written == 4)
        let a = try ZarrArray.open(store: v3, path: "0")
        #expect(a.metadata.codecs.sharding?.innerChunkShape == [5, 10])
        #expect(a.metadata.chunkShape == [10, 20])
        #expect(a.metadata.dimensionNames == ["y", "x"])
        #expect(try a.readAll() == data)
        guard case let .group(.v3, attributes) = try Node.open(store: v3, path: "") else { Issue.record("no v3 group"); return }
        #expect(attributes["ome"]?["version"] == "0.5")

        let v2 = MemoryStore()
        _ = try ZarrCopy(source: v3, sourcePath: "", destination: v2, destinationPath: "out",
                         options: CopyOptions(format: .v2, chunks: [3, 3]), log: { _ in }).run()
        let b = try ZarrArray.open(store: v2, path: "out/0")
        #expect(b.metadata.chunkShape == [3, 3])
        #expect(try b.readAll() == data)
    }

    @Test func resumeSkipsCompleteObjectsAndRedoesDamagedOnes() throws {
        let src = MemoryStore()
        let data = try sourceArray(src)
        let dst = MemoryStore()
        let options = CopyOptions(format: .v3, chunks: [10, 10], jobs: 2)
        _ = try ZarrCopy(source: src, sourcePath: "", destination: dst, destinationPath: "", options: options, log: { _ in }).run()
        // Simulate a killed run: root metadata missing, one object damaged.
        try dst.delete("zarr.json")
        try dst.set("0/c/1/1", [1, 2, 3])
        let s = try ZarrCopy(source: src, sourcePath: "", destination: dst, destinationPath: "", options: options, log: { _ in }).run()
        #expect(s.written == 1)
        #expect(s.skipped == 5)
        #expect(try ZarrArray.open(store: dst, path: "0").readAll() == data)
        #expect(try dst.exists("zarr.json"))
    }

    @Test func planningErrorsAreUsageErrors() throws {
        let src = MemoryStore()
        _ = try sourceArray(src)
        for options in [CopyOptions(format: .v2, shards: [10, 10]), CopyOptions(chunks: [1, 2, 3]),
                        CopyOptions(format: .v3, chunks: [4, 4], shards: [6, 6])] {
            #expect(throws: UsageError.self) {
                try ZarrCopy(source: src, sourcePath: "", destination: MemoryStore(), destinationPath: "", options: options, log: { _ in }).run()
            }
        }
    }

    /// Issue 21: 10^12 grid cells, two stored chunks. The copy walks the listing, not the
    /// grid (a list of the grid would take terabytes), and copies exactly what is stored.
    @Test func hugeSparseGridIsCopiedFromTheListing() throws {
        let src = MemoryStore()
        let m = ArrayMetadata(format: .v3, shape: [1_000_000, 1_000_000], chunkShape: [1, 1], dataType: .float64,
                              fillValue: FillValue(bytes: withUnsafeBytes(of: (-1.0).bitPattern.littleEndian, Array.init)))
        let a = ZarrArray(store: src, path: "", metadata: m)
        let value = NDBuffer(dataType: .float64, shape: [1, 1], bytes: withUnsafeBytes(of: (3.5).bitPattern.littleEndian, Array.init))
        try a.write(Region(origin: [5, 7], shape: [1, 1]), value)
        try a.write(Region(origin: [999_999, 999_999], shape: [1, 1]), value)
        try a.writeMetadata()
        for (format, chunks) in [(ZarrFormat.v2, nil), (.v3, [100, 100] as [Int]?)] {
            let dst = MemoryStore()
            let s = try ZarrCopy(source: src, sourcePath: "", destination: dst, destinationPath: "",
                                 options: CopyOptions(format: format, chunks: chunks, jobs: 2), log: { _ in }).run()
            #expect(s.written == 2)
            let b = try ZarrArray.open(store: dst, path: "")
            #expect(try b.read(Region(origin: [5, 7], shape: [1, 1])) == value)
            #expect(try b.read(Region(origin: [999_999, 999_999], shape: [1, 1])) == value)
            #expect(try b.read(Region(origin: [5, 6], shape: [1, 1])).bytes == m.fillValue.bytes)
            // Two chunks and the array's metadata, beside the run record copy leaves.
            #expect(try dst.list(prefix: "").filter { $0.key != OutputMark.key }.count == 3)
        }
    }

    /// A destination chunk that overlaps several stored source chunks is written once.
    @Test func sparseCellsOverlappingSeveralSourceChunksAreWrittenOnce() throws {
        let src = MemoryStore()
        let m = ArrayMetadata(format: .v3, shape: [100_000, 100_000], chunkShape: [10, 10], dataType: .uint8)
        let a = ZarrArray(store: src, path: "", metadata: m)
        let ones = NDBuffer(dataType: .uint8, shape: [20, 20], fill: FillValue(bytes: [1]))
        try a.write(Region(origin: [0, 0], shape: [20, 20]), ones)
        try a.writeMetadata()
        let dst = MemoryStore()
        let s = try ZarrCopy(source: src, sourcePath: "", destination: dst, destinationPath: "",
                             options: CopyOptions(format: .v3, chunks: [40, 40], jobs: 2), log: { _ in }).run()
        #expect(s.written == 1)
        let b = try ZarrArray.open(store: dst, path: "")
        #expect(try b.read(Region(origin: [0, 0], shape: [20, 20])) == ones)
        #expect(try b.read(Region(origin: [20, 0], shape: [20, 40])).isUniform(.zero(.uint8)))
    }
}
