import Foundation
import Storage
import Testing
@testable import ZarrCore

@Suite struct ZarrArrayTests {
    static let layouts: [(String, ArrayMetadata)] = {
        let shape = [11, 9, 14]
        let blosc = BloscCodec(cname: "zstd", clevel: 3, shuffle: .bitshuffle, typesize: 4)
        return [
            ("v2 C blosc", ArrayMetadata(format: .v2, shape: shape, chunkShape: [4, 4, 5], dataType: .int32,
                                         fillValue: FillValue(bytes: [0xff, 0xff, 0xff, 0xff]), codecs: CodecPipeline(bytesToBytes: [blosc]))),
            ("v2 F gzip", ArrayMetadata(format: .v2, shape: shape, chunkShape: [5, 3, 7], dataType: .int32,
                                        codecs: CodecPipeline(arrayToArray: [TransposeCodec.fortran(dimensions: 3)], bytesToBytes: [GzipCodec()]))),
            ("v3 transpose zstd crc", ArrayMetadata(format: .v3, shape: shape, chunkShape: [3, 9, 4], dataType: .int32,
                                                    codecs: CodecPipeline(arrayToArray: [TransposeCodec(order: [1, 2, 0])],
                                                                          bytesToBytes: [ZstdCodec(), CRC32CCodec()]))),
            ("v3 big-endian", ArrayMetadata(format: .v3, shape: shape, chunkShape: [4, 4, 4], dataType: .int32,
                                            codecs: CodecPipeline(arrayToBytes: BytesCodec(endian: .big)))),
        ]
    }()

    func values(_ shape: [Int], seed: Int) -> NDBuffer {
        let n = shape.reduce(1, *)
        return NDBuffer(dataType: .int32, shape: shape, bytes: (0..<n).flatMap { i -> [UInt8] in
            withUnsafeBytes(of: Int32(truncatingIfNeeded: i &* 2654435761 &+ seed).littleEndian, Array.init)
        })
    }

    @Test(arguments: 0..<layouts.count)
    func regionWritesMatchAReference(_ i: Int) throws {
        let (_, m) = Self.layouts[i]
        let folder = TemporaryFolder()
        for store in [MemoryStore() as any Store, folder.store] {
            let a = ZarrArray(store: store, path: "x/y", metadata: m, concurrency: 3)
            var reference = NDBuffer(dataType: .int32, shape: m.shape, fill: m.fillValue)
            let regions = [Region(origin: [0, 0, 0], shape: [11, 9, 14]), Region(origin: [2, 1, 3], shape: [5, 7, 2]),
                           Region(origin: [10, 8, 13], shape: [1, 1, 1]), Region(origin: [3, 0, 0], shape: [4, 9, 14])]
            for (k, r) in regions.enumerated() {
                let v = values(r.shape, seed: k)
                try a.write(r, v)
                reference.paste(v, from: [0, 0, 0], to: r.origin, size: r.shape)
                #expect(try a.readAll() == reference)
                #expect(try a.read(Region(origin: [1, 2, 3], shape: [6, 5, 4])) == reference.extract(Region(origin: [1, 2, 3], shape: [6, 5, 4])))
            }
            try a.writeMetadata()
            let reopened = try ZarrArray.open(store: store, path: "x/y")
            #expect(try reopened.readAll() == reference)
        }
    }

    @Test func missingChunksReadAsFill() throws {
        let m = ArrayMetadata(format: .v3, shape: [5, 5], chunkShape: [2, 2], dataType: .float32,
                              fillValue: FillValue(double: .nan, type: .float32))
        let a = ZarrArray(store: MemoryStore(), path: "", metadata: m)
        #expect(try a.readAll().isUniform(m.fillValue))
    }

    @Test func outOfBoundsRegionsAreRejected() throws {
        let a = ZarrArray(store: MemoryStore(), path: "", metadata: ArrayMetadata(format: .v3, shape: [4], chunkShape: [2], dataType: .uint8))
        #expect(throws: ZarrError.self) { try a.read(Region(origin: [3], shape: [2])) }
        #expect(throws: ZarrError.self) { try a.read(Region(origin: [-1], shape: [1])) }
    }

    @Test func fillOnlyChunksAreNotStored() throws {
        let store = MemoryStore()
        let a = ZarrArray(store: store, path: "", metadata: ArrayMetadata(format: .v2, shape: [4, 4], chunkShape: [2, 2], dataType: .uint8))
        var data = NDBuffer(dataType: .uint8, shape: [4, 4], fill: .zero(.uint8))
        data.bytes[15] = 9
        try a.write(Region(shape: [4, 4]), data)
        #expect(try store.list(prefix: "").map(\.key) == ["1/1"])
    }
}
