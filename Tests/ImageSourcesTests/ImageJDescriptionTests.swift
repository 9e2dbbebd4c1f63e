@testable import ImageSources
import Testing

/// `ImageJDescription`: the hyperstack layout ImageJ writes into a TIFF's description (issue 13).
@Suite struct ImageJDescriptionTests {
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
}
