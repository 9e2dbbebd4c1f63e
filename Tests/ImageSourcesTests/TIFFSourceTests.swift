import Foundation
@testable import ImageSources
import Testing
import ZarrCore

@Suite final class TIFFSourceTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-tiff-\(UUID())")

    init() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Deterministic, position-dependent bytes so a misplaced pixel shows.
    func pattern(_ count: Int, seed: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seed &* 13 &+ $0 / 251) } }

    @Test func stripedMultiPageUInt16StacksPagesAlongZ() throws {
        let (w, h) = (37, 11)
        let pages = (0..<4).map { pattern(w * h * 2, seed: $0) }
        try TIFFWriter(width: w, height: h, bitsPerSample: 16, rowsPerStrip: 3).write(path("stack.tif"), pages: pages)
        let file = try SourceOpener.open(path("stack.tif"))
        let image = try #require(file.images.first)
        #expect(image.description.axisNames == ["z", "y", "x"])
        #expect(image.description.shape == [4, h, w])
        #expect(image.description.dataType == .uint16)
        let region = Region(origin: [1, 2, 5], shape: [2, 7, 20])
        let got = try image.read(region)
        var expected = [UInt8]()
        for z in 1..<3 { for y in 2..<9 { expected += pages[z][((y * w + 5) * 2)..<((y * w + 25) * 2)] } }
        #expect(got.bytes == expected)
    }

    @Test(arguments: [false, true]) func tiledRGBReadsAsChannels(separate: Bool) throws {
        let (w, h) = (50, 40)
        // Storage order: interleaved RGBRGB… or the R plane, G plane, B plane.
        let page = pattern(w * h * 3, seed: 5)
        try TIFFWriter(width: w, height: h, samples: 3, planarSeparate: separate, tile: 16, bigTIFF: separate)
            .write(path("rgb.tif"), pages: [page])
        let image = try #require(try SourceOpener.open(path("rgb.tif")).images.first)
        #expect(image.description.axisNames == ["c", "y", "x"])
        let region = Region(origin: [1, 13, 7], shape: [2, 20, 30])
        let got = try image.read(region)
        var expected = [UInt8]()
        for c in 1..<3 {
            for y in 13..<33 {
                for x in 7..<37 { expected.append(separate ? page[c * w * h + y * w + x] : page[(y * w + x) * 3 + c]) }
            }
        }
        #expect(got.bytes == expected)
    }

    /// All three channels of interleaved 8-bit RGB take the one-pass split (16 pixels at a
    /// time, the rest one by one): whole tile rows, partial ones at both ends, and the image.
    @Test func interleavedRGBAllChannelsSplitInOnePass() throws {
        let (w, h) = (70, 40)
        let page = pattern(w * h * 3, seed: 9)
        try TIFFWriter(width: w, height: h, samples: 3, tile: 32).write(path("rgb3.tif"), pages: [page])
        let image = try #require(try SourceOpener.open(path("rgb3.tif")).images.first)
        for region in [Region(origin: [0, 3, 5], shape: [3, 30, 60]), Region(shape: [3, h, w]), Region(origin: [0, 0, 33], shape: [3, 1, 17])] {
            var expected = [UInt8]()
            for c in 0..<3 {
                for y in region.origin[1]..<(region.origin[1] + region.shape[1]) {
                    for x in region.origin[2]..<(region.origin[2] + region.shape[2]) { expected.append(page[(y * w + x) * 3 + c]) }
                }
            }
            #expect(try image.read(region).bytes == expected, "\(region)")
        }
    }

    @Test func truncatedTIFFFailsNamingTheFile() throws {
        let (w, h) = (64, 64)
        try TIFFWriter(width: w, height: h, tile: 16).write(path("whole.tif"), pages: [pattern(w * h, seed: 1)])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("whole.tif")))
        // Keep the header and the IFD (at the end for libtiff) but cut the tile data short.
        var cut = bytes
        cut.replaceSubrange(200..<2000, with: Data(repeating: 0, count: 0))
        try cut.write(to: URL(fileURLWithPath: path("cut.tif")))
        do {
            let image = try #require(try SourceOpener.open(path("cut.tif")).images.first)
            _ = try image.read(Region(shape: image.description.shape))
            Issue.record("reading a truncated TIFF succeeded")
        } catch let error as SourceError {
            #expect(error.path == path("cut.tif"))
        }
    }

    @Test func nonImageFilesAreRejectedByContent() throws {
        try Data("hello, not an image".utf8).write(to: URL(fileURLWithPath: path("x.tif")))
        #expect(throws: SourceError.self) { try SourceOpener.open(path("x.tif")) }
        #expect(throws: SourceError.self) { try SourceOpener.open(path("missing.tif")) }
    }
}
