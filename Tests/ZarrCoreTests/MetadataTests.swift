import Storage
import Testing
@testable import ZarrCore

@Suite struct MetadataTests {
    @Test func v3DocumentRoundTrips() throws {
        let m = ArrayMetadata(format: .v3, shape: [3, 4], chunkShape: [2, 2], dataType: .float64,
                              fillValue: FillValue(double: -.infinity, type: .float64),
                              codecs: CodecPipeline(bytesToBytes: [BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 8)]),
                              dimensionNames: ["y", "x"], attributes: ["a": [1, 2]])
        let json = try JSONValue.parse(m.v3Metadata.serialized(), key: "k")
        #expect(json["fill_value"] == "-Infinity")
        #expect(json["codecs"]?.arrayValue?[1]["configuration"]?["shuffle"] == "shuffle")
        #expect(json["codecs"]?.arrayValue?[1]["configuration"]?["typesize"] == 8)
        let back = try ArrayMetadata(v3: json, key: "k")
        #expect(back.v3Metadata == m.v3Metadata)
    }

    @Test func v2DocumentRoundTrips() throws {
        let m = ArrayMetadata(format: .v2, shape: [3, 4], chunkShape: [2, 2], dataType: .uint16, fillValue: FillValue(bytes: [5, 0]),
                              codecs: CodecPipeline(arrayToArray: [TransposeCodec.fortran(dimensions: 2)], bytesToBytes: [ZstdCodec(level: 7)]))
        let json = try m.v2Metadata(key: "k")
        #expect(json["dimension_separator"] == "/")
        #expect(json["order"] == "F")
        #expect(json["fill_value"] == 5)
        let back = try ArrayMetadata(v2: json, attributes: [:], key: "k")
        #expect(try back.v2Metadata(key: "k") == json)
    }

    @Test func v2CannotExpressSharding() {
        let m = ArrayMetadata(format: .v2, shape: [4], chunkShape: [4], dataType: .uint8,
                              codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [2], codecs: CodecPipeline())))
        #expect(throws: ZarrError.self) { try m.v2Metadata(key: "k") }
    }

    @Test func malformedDocumentsNameTheirKey() throws {
        let store = MemoryStore()
        try store.set("img/zarr.json", Array("{\"zarr_format\": 3, \"node_type\": \"arr".utf8))
        #expect(throws: ZarrError.invalidMetadata(key: "memory:img/zarr.json", reason: "not valid JSON")) {
            try Node.open(store: store, path: "img")
        }
        try store.set("u/zarr.json", Array(#"{"zarr_format":3,"node_type":"array","shape":[2],"data_type":"complex64","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2]}},"fill_value":0,"codecs":[{"name":"bytes"}]}"#.utf8))
        #expect(throws: ZarrError.unsupported(key: "memory:u/zarr.json", what: "data type 'complex64'")) {
            try Node.open(store: store, path: "u")
        }
        #expect(throws: ZarrError.nodeNotFound(path: "memory:nothing")) { try Node.open(store: store, path: "nothing") }
    }
}
