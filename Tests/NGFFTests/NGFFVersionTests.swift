import NGFF
import Testing
import ZarrCore

/// `NGFFVersion`: each NGFF version lives in one Zarr format, both ways.
@Suite struct NGFFVersionTests {
    @Test func eachVersionHasItsZarrFormat() {
        #expect(NGFFVersion.v04.zarrFormat == .v2)
        #expect(NGFFVersion.v05.zarrFormat == .v3)
        for format in [ZarrFormat.v2, .v3] { #expect(NGFFVersion(format: format).zarrFormat == format) }
    }
}
