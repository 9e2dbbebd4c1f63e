@testable import ImageSources
import Testing

/// The pieces behind issue 13's TIFF items that need no file: the ImageJ description,
/// 1-bit unpacking and libtiff's message cleanup.
@Suite struct TIFFVariantsTests {
    @Test func imageJHyperstackDescription() throws {
        let text = "ImageJ=1.11a\nimages=30\nchannels=2\nslices=5\nframes=3\nhyperstack=true\nmode=grayscale\nloop=false\nspacing=2.5\nunit=\\u00B5m\nfinterval=4\n"
        let d = try #require(ImageJDescription(text))
        #expect((d.images, d.channels, d.slices, d.frames) == (30, 2, 5, 3))
        #expect(d.spacing == 2.5)
        #expect(d.unit == "micrometer")
        #expect(d.frameInterval == 4)
        #expect(d.timeUnit == "second")
    }

    @Test func notAnImageJDescription() {
        #expect(ImageJDescription("{\"shape\": [3, 4]}") == nil)
        #expect(ImageJDescription(nil) == nil)
        // A stack without counts is one image; nonsense values fall back to 1, never 0 or less.
        let d = ImageJDescription("ImageJ=1.53\nslices=-4\nunit=pixel")
        #expect(d?.slices == 1)
        #expect(d?.images == 1)
        #expect(d?.unit == nil)
        // Counts whose product overflows are not a hyperstack (and must not trap).
        let huge = ImageJDescription("ImageJ=1.53\nimages=4\nchannels=9223372036854775807\nslices=4\nframes=4")
        #expect(huge?.hyperstackPlanes == nil)
        #expect(huge?.images == 4)
    }

    @Test func unpackBitsKeepsRowPadding() {
        // 10 pixels per row → 2 bytes per row (6 padding bits); two rows.
        let packed: [UInt8] = [0b1010_0000, 0b1100_0000, 0b0000_0001, 0b0100_0000]
        var out = [UInt8](repeating: 9, count: 20)
        let n = packed.withUnsafeBytes { p in out.withUnsafeMutableBytes { unpackBits(p.baseAddress!, count: 4, width: 10, into: $0.baseAddress!) } }
        #expect(n == 20)
        #expect(out == [1, 0, 1, 0, 0, 0, 0, 0, 1, 1,
                        0, 0, 0, 0, 0, 0, 0, 1, 0, 1])
    }

    @Test func libTIFFRowNumbersAreDropped() {
        #expect(TIFFHandlePool.withoutLibTIFFPosition("Read error at scanline 4294967295; got 3 bytes, expected 2048")
            == "Read error; got 3 bytes, expected 2048")
        #expect(TIFFHandlePool.withoutLibTIFFPosition("Read error at row 4294967295, col 4294967295; got 3 bytes")
            == "Read error; got 3 bytes")
        #expect(TIFFHandlePool.withoutLibTIFFPosition("Read error at row 32, col 32, tile 15; got 3 bytes")
            == "Read error; got 3 bytes")
        #expect(TIFFHandlePool.withoutLibTIFFPosition("Not enough data for scanline 16") == "Not enough data")
    }
}
