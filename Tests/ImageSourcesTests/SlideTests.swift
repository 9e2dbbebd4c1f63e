import Foundation
@testable import ImageSources
import Testing
import ZarrCore

@Suite struct SlidePixelTests {
    /// Premultiplied (colour, alpha) on a background → the sample openslide-python's
    /// `read_region` + Pillow's `paste(tile, mask=tile)` give (values computed with them).
    @Test(arguments: [
        (64, 128, 255, 191), (64, 128, 0, 64), (1, 3, 200, 199), (10, 20, 17, 26), (200, 250, 255, 205),
        (0, 0, 30, 30), (90, 255, 10, 90), (100, 50, 255, 255),
    ] as [(UInt32, UInt32, UInt32, UInt8)])
    func compositesAsOpenSlidePythonAndPillow(_ c: UInt32, _ a: UInt32, _ bg: UInt32, _ expected: UInt8) {
        #expect(PremultipliedARGB.composite(c, alpha: a, background: bg) == expected)
    }

    @Test func convertsWordsToPlanesOfTheAskedChannels() {
        let argb = PremultipliedARGB(backgroundHex: "102030")
        let words: [UInt32] = [0xFF11_2233, 0x0000_0000, 0xFF44_5566]
        var out = [UInt8](repeating: 0, count: 6)
        words.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                argb.convert(src.baseAddress!, count: 3, channels: 1..<3, into: dst.baseAddress!, planeStride: 3)
            }
        }
        // green plane, then blue plane; the transparent pixel is the background
        #expect(out == [0x22, 0x20, 0x55, 0x33, 0x30, 0x66])
    }

    @Test func backgroundIsWhiteUnlessSixHexDigits() {
        #expect(PremultipliedARGB(backgroundHex: nil).background == (255, 255, 255))
        #expect(PremultipliedARGB(backgroundHex: "fffff").background == (255, 255, 255))
        #expect(PremultipliedARGB(backgroundHex: "zzzzzz").background == (255, 255, 255))
        #expect(PremultipliedARGB(backgroundHex: "E0f001").background == (0xE0, 0xF0, 0x01))
    }

    @Test func micrometresPerPixelNeedBothPositive() {
        #expect(SlideOpener.micrometresPerPixel(["openslide.mpp-x": "0.25", "openslide.mpp-y": "0.5"])! == (0.25, 0.5))
        #expect(SlideOpener.micrometresPerPixel(["openslide.mpp-x": "0.25"]) == nil)
        #expect(SlideOpener.micrometresPerPixel(["openslide.mpp-x": "0", "openslide.mpp-y": "0.5"]) == nil)
        #expect(SlideOpener.micrometresPerPixel(["openslide.mpp-x": "nan", "openslide.mpp-y": "0.5"]) == nil)
    }

    @Test func nonTIFFSlidesGoToTheSlideReaderByName() {
        #expect(SourceOpener.kind(of: Array("[GENERAL]\n".utf8), path: "/x/slide.mrxs") == .slide)
        #expect(SourceOpener.kind(of: Array("[Virtual".utf8), path: "/x/slide.VMS") == .slide)
        // TIFF magic that OpenSlide does not recognise (here: no such file) stays a TIFF.
        #expect(SourceOpener.kind(of: [0x49, 0x49, 42, 0], path: "/nonexistent/a.svs") == .tiff)
    }

    @Test func notASlideIsOneErrorNamingTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-slide-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("broken.mrxs").path
        try Data("[GENERAL]\nSLIDE_VERSION = 1.9\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SourceError.self) { try SourceOpener.open(path) }
        #expect(error?.path == path)
        #expect(error?.reason.contains("not a readable slide") == true)
    }
}
