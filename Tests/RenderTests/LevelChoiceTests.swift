@testable import Render
import Testing
import ZarrCore

/// Level choice is arithmetic: a level that is read fails the test.
struct NoReads: LevelReader {
    func read(_ region: Region, concurrency: Int) throws -> NDBuffer {
        Issue.record("level read at \(region)")
        throw RenderError.encoder("read")
    }
}

@Suite struct LevelChoiceTests {
    /// A yx pyramid of `count` levels, each 2× smaller (ceil) than the one before.
    func pyramid(_ width: Int, _ height: Int, count: Int, factor: Int = 2) -> [RenderLevel] {
        var w = width, h = height, f = 1.0
        var out = [RenderLevel]()
        for _ in 0..<count {
            out.append(RenderLevel(shape: [h, w], reader: NoReads(), factorZ: 1, factorY: f, factorX: f))
            w = ceilDiv(w, factor); h = ceilDiv(h, factor); f *= Double(factor)
        }
        return out
    }
    let yx = RenderAxes(t: nil, c: nil, z: nil, y: 0, x: 1, rank: 2)

    @Test func spanAtACoarserLevel() {
        #expect(LevelChoice.span(start: 3, length: 5, factor: 2, size: 10) == (1, 3))
        #expect(LevelChoice.span(start: 0, length: 9, factor: 4, size: 3) == (0, 3))
        // Clipped to the level, never empty.
        #expect(LevelChoice.span(start: 9, length: 1, factor: 4, size: 3) == (2, 1))
    }

    @Test func outputSizeKeepsAspectAndNeverUpsamples() {
        #expect(LevelChoice.outputSize(width: 1000, height: 400, box: SizeSpec(width: 128, height: 128)) == (128, 51))
        #expect(LevelChoice.outputSize(width: 300, height: 400, box: nil) == (300, 400))
        #expect(LevelChoice.outputSize(width: 30, height: 40, box: SizeSpec(width: 128, height: 128)) == (30, 40))
        #expect(LevelChoice.outputSize(width: 10000, height: 1, box: SizeSpec(width: 100, height: 100)) == (100, 1))
    }

    @Test func thumbnailNeverReadsLevelZero() {
        let levels = pyramid(2048, 2048, count: 6)  // 2048 … 64
        let whole = PixelRect(x: 0, y: 0, width: 2048, height: 2048)
        #expect(LevelChoice.choose(levels: levels, axes: yx, region: whole, box: SizeSpec(width: 128, height: 128)) == 4)
        #expect(LevelChoice.choose(levels: levels, axes: yx, region: whole, box: SizeSpec(width: 100, height: 100)) == 4)
        #expect(LevelChoice.choose(levels: levels, axes: yx, region: whole, box: SizeSpec(width: 129, height: 129)) == 3)
        #expect(LevelChoice.choose(levels: levels, axes: yx, region: whole, box: SizeSpec(width: 4096, height: 4096)) == 0)
        // A region's read span decides, not the whole image.
        let part = PixelRect(x: 100, y: 100, width: 512, height: 256)
        #expect(LevelChoice.choose(levels: levels, axes: yx, region: part, box: SizeSpec(width: 64, height: 64)) == 3)
    }

    @Test func factorsOtherThanTwo() {
        let levels = pyramid(900, 900, count: 4, factor: 3)  // 900, 300, 100, 34
        let whole = PixelRect(x: 0, y: 0, width: 900, height: 900)
        #expect(LevelChoice.choose(levels: levels, axes: yx, region: whole, box: SizeSpec(width: 128, height: 128)) == 1)
        #expect(LevelChoice.choose(levels: levels, axes: yx, region: whole, box: SizeSpec(width: 100, height: 100)) == 2)
    }
}
