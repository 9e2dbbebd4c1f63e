import Render
import Storage
import Testing
import ZarrCore
@testable import Gateway

/// What a picture's entity tag (and disk-cache key) is made of: the normalised request and
/// the versions of every metadata document from the image's group to its levels; nothing
/// about pixels, so a 304 needs none.
@Suite struct RenderTagTests {
    /// A one-level 8×8 uint8 NGFF 0.5 image at `path` (under `series` for a bioformats2raw root).
    func image(_ store: MemoryStore, path: String = "img", extra: String = "") throws {
        let meta = ArrayMetadata(format: .v3, shape: [8, 8], chunkShape: [4, 4], dataType: .uint8)
        let array = ZarrArray(store: store, path: joinKey(path, "0"), metadata: meta, concurrency: 1)
        try array.write(Region(shape: [8, 8]), NDBuffer(dataType: .uint8, shape: [8, 8], bytes: (0..<64).map { UInt8($0) }))
        try array.writeMetadata()
        let group = """
        {"zarr_format":3,"node_type":"group","attributes":{\(extra)"ome":{"version":"0.5","multiscales":[{"axes":[{"name":"y","type":"space"},\
        {"name":"x","type":"space"}],"datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1,1]}]}]}]}}}
        """
        try store.set(joinKey(path, "zarr.json"), Array(group.utf8))
    }

    func prepared(_ store: MemoryStore, _ query: String, image: String = "img") throws -> RenderRoute.Prepared {
        try RenderRoute.prepare(store: store, image: image, request: RenderRequest(parameters: RenderQuery.pairs(fromQuery: query)),
                                limits: RenderLimits())
    }

    @Test func theRequestIsNormalisedAndTheTagIsStrongAndStable() throws {
        let store = MemoryStore()
        try image(store)
        let a = try prepared(store, "size=4&window=p1,p99")
        let b = try prepared(store, "window=p1.0,p99&size=4,4")
        #expect(a.material == b.material)
        #expect(RenderRoute.etag(a.material) == RenderRoute.etag(b.material))
        #expect(RenderRoute.etag(a.material).hasPrefix("\"r-") && RenderRoute.etag(a.material).hasSuffix("\""))
        #expect(try prepared(store, "size=5&window=p1,p99").material != a.material)
        #expect(a.material.contains("img/zarr.json ") && a.material.contains("img/0/zarr.json "))
        #expect(a.levelKeys == ["img/0"])
    }

    @Test func aChangedMetadataDocumentChangesTheTag() throws {
        let store = MemoryStore()
        try image(store)
        let before = try prepared(store, "size=4")
        try image(store, extra: "\"note\":\"reconverted\",")
        #expect(try prepared(store, "size=4").material != before.material)
    }

    @Test func aBioformats2rawRootNamesTheSeriesGroupAndLevels() throws {
        let store = MemoryStore()
        try store.set("plate/zarr.json", Array(#"{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","bioformats2raw.layout":3}}}"#.utf8))
        try image(store, path: "plate/0")
        let p = try prepared(store, "size=4", image: "plate")
        #expect(p.levelKeys == ["plate/0/0"])
        for document in ["plate/zarr.json ", "plate/0/zarr.json ", "plate/0/0/zarr.json "] { #expect(p.material.contains(document)) }
    }

    @Test func badRequestsFailBeforeAnyTag() throws {
        let store = MemoryStore()
        try image(store)
        #expect(throws: RenderError.self) { try prepared(store, "level=3") }
        // Named as the gateway names it (root/path; this root is ""), never by the store.
        #expect(throws: RenderError.imageNotFound("nothing")) { try prepared(store, "size=4", image: "nothing") }
    }
}
