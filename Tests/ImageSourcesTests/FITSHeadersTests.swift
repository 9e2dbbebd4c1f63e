@testable import ImageSources
import Testing
import ZarrCore

/// The FITS card parser of the harvest, against cards as astropy writes them (the values
/// here are what astropy's `Header.cards` gives for the same cards).
@Suite struct FITSHeadersTests {
    func card(_ text: String) -> String { text.padding(toLength: 80, withPad: " ", startingAt: 0) }

    @Test func everyCardKindAsAstropyReadsIt() {
        let cards = [
            "SIMPLE  =                    T / conforms to FITS standard",
            "BITPIX  =                   16 / array data type",
            "OBJECT  = 'M31 ''core'''",
            "LONGSTR = 'xxxxxxxxxx  &'",
            "CONTINUE  'yyyy&'",
            "CONTINUE  ' end    '",
            "HIERARCH ESO DET CHIP NAME = 'ccd1    '",
            "EXPTIME =                1E-05",
            "DVAL    =               1.5D02 / D exponent",
            "COMMENT hello world",
            "HISTORY hist 1",
            "",
            "DUP     =                    1",
            "DUP     =                    2",
            "UNDEF   =",
            "CPLX    =           (1.0, 2.0)",
            "BIGU    = 18446744073709551615",
            "END",
            "AFTER   =                    1",
        ].map(card)
        let parsed = FITSHeaders.parse(cards)
        #expect(parsed.map(\.key) == ["SIMPLE", "BITPIX", "OBJECT", "LONGSTR", "ESO DET CHIP NAME", "EXPTIME", "DVAL",
                                      "COMMENT", "HISTORY", "DUP", "DUP", "UNDEF", "CPLX", "BIGU"])
        #expect(parsed.map(\.value) == [.bool(true), .int(16), .string("M31 'core'"), .string("xxxxxxxxxx  yyyy end"),
                                        .string("ccd1"), .double(1e-05), .double(150), .string("hello world"),
                                        .string("hist 1"), .int(1), .int(2), .null, .string("(1.0, 2.0)"),
                                        .uint(18_446_744_073_709_551_615)])
    }

    @Test func cardsWithoutTrailingBlanksAsCfitsioGivesThem() {
        let parsed = FITSHeaders.parse(["UNDEF   =", "COMMENT", "A       =                    1"])
        #expect(parsed.map(\.key) == ["UNDEF", "COMMENT", "A"])
        #expect(parsed.map(\.value) == [.null, .string(""), .int(1)])
    }

    @Test func aStringEndingInAmpersandWithoutContinueKeepsIt() {
        let parsed = FITSHeaders.parse([card("A       = 'x&'"), card("B       =                    1")])
        #expect(parsed.map(\.value) == [.string("x&"), .int(1)])
    }
}
