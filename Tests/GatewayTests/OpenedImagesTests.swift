import Foundation
import Render
import Storage
import Testing
import ZarrCore
@testable import Gateway

/// The parsed images kept between picture requests (`OpenedImages`): kept only after a
/// parse between two identical version checks, dropped as soon as a document's version
/// changes, never kept for stores without versions.
@Suite final class OpenedImagesTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opened-images-\(UUID().uuidString)").path
    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// A one-level uint8 NGFF 0.5 image `img` of `side`² in `store`.
    func image(_ store: any Store, side: Int) throws {
        let meta = ArrayMetadata(format: .v3, shape: [side, side], chunkShape: [4, 4], dataType: .uint8)
        let array = ZarrArray(store: store, path: "img/0", metadata: meta, concurrency: 1)
        try array.write(Region(shape: [side, side]), NDBuffer(dataType: .uint8, shape: [side, side], bytes: (0..<(side * side)).map { UInt8($0 % 256) }))
        try array.writeMetadata()
        let group = """
        {"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","multiscales":[{"axes":[{"name":"y","type":"space"},\
        {"name":"x","type":"space"}],"datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1,1]}]}]}]}}}
        """
        try store.set("img/zarr.json", Array(group.utf8))
    }

    func prepared(_ store: any Store, _ images: OpenedImages) throws -> RenderRoute.Prepared {
        try RenderRoute.prepare(store: store, image: "img", request: RenderRequest(parameters: RenderQuery.pairs(fromQuery: "size=4")),
                                limits: RenderLimits(), images: images, rootName: "r")
    }

    @Test func anImageIsKeptAfterTwoMatchingChecksAndDroppedWhenItsLevelIsRewritten() throws {
        let store = FileStore(path: folder)
        try image(store, side: 8)
        let images = OpenedImages(maximumEntries: 8)
        let first = try prepared(store, images)
        #expect(images.readyCount == 0)  // one parse, no version seen before it
        let second = try prepared(store, images)
        #expect(images.readyCount == 1)
        #expect(try prepared(store, images).material == first.material)
        #expect(second.material == first.material)

        // Re-converted at another size: the level's document changes, and so must the
        // image the next request plans with (a kept stale image would plan 8×8).
        try image(store, side: 12)
        let after = try prepared(store, images)
        #expect(after.material != first.material)
        #expect(after.plan.image.width == 12)
        #expect(try prepared(store, images).plan.image.width == 12)
    }

    @Test func storesWithoutVersionsAreNeverKept() throws {
        let store = MemoryStore()
        try image(store, side: 8)
        let images = OpenedImages(maximumEntries: 8)
        for _ in 0..<3 { _ = try prepared(store, images) }
        #expect(images.readyCount == 0)
        // Every request parses afresh, so a rewrite shows at once.
        try image(store, side: 12)
        #expect(try prepared(store, images).plan.image.width == 12)
    }

    @Test func aFullTableIsEmptiedNotGrown() throws {
        let store = FileStore(path: folder)
        try image(store, side: 8)
        let images = OpenedImages(maximumEntries: 1)
        for _ in 0..<2 { _ = try prepared(store, images) }
        #expect(images.readyCount == 1)
        _ = try images.open(rootName: "other", store: store, path: "img")
        #expect(images.readyCount == 0)
    }
}
