@testable import ImageSources
import Testing

/// `TIFFHandlePool`: libtiff's messages cleaned of positions before they reach the user.
@Suite struct TIFFHandlePoolTests {
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
