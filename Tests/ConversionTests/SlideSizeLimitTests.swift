@testable import Conversion
import ImageSources
import Testing
import ZarrCore

/// A slide's declared size is bounded by its pages' TIFF compression (Docs/convert.md,
/// "Declared size"); slides whose pixels may legitimately be absent are not bounded.
@Suite struct SlideSizeLimitTests {
    final class Described: ImageSource, @unchecked Sendable {
        let description: ImageDescription
        init(_ metadata: JSONValue, shape: [Int] = [3, 40_000, 40_000]) {
            description = ImageDescription(name: "s", axes: ["c", "y", "x"].map { ImageAxis(name: $0) }, shape: shape,
                                           dataType: .uint8, metadata: metadata)
        }
        func read(_ region: Region) throws -> NDBuffer { NDBuffer(dataType: .uint8, shape: region.shape, fill: .zero(.uint8)) }
    }

    func slide(vendor: String, codes: [Int]?, bytes: Int) -> SourceFile {
        var m: [String: JSONValue] = ["vendor": .string(vendor)]
        if let codes { m["tiff_compression"] = JSONValue(codes) }
        return SourceFile(path: "s.svs", format: .slide, images: [Described(.object(m))], fileBytes: bytes)
    }

    @Test func jpegSlidesAreBoundedLikeJPEGTIFF() throws {
        #expect(DeclaredSizeLimit.expansion(slide(vendor: "aperio", codes: [7, 1], bytes: 1))! == (2048, "JPEG"))
        // 4.8 GB of RGB in 1 MB of JPEG is more than 2048× → refused, naming the file
        #expect(throws: SourceError.self) { try DeclaredSizeLimit.check(slide(vendor: "aperio", codes: [7], bytes: 1 << 20), maxPixels: nil) }
        try DeclaredSizeLimit.check(slide(vendor: "aperio", codes: [7], bytes: 4 << 20), maxPixels: nil)
    }

    @Test func jpeg2000AndUnknownCodecsGetTheWideBound() {
        #expect(DeclaredSizeLimit.expansion(slide(vendor: "aperio", codes: [33003, 1], bytes: 1))! == (65536, "JPEG 2000"))
        #expect(DeclaredSizeLimit.expansion(slide(vendor: "leica", codes: [7, 34712], bytes: 1))!.0 == 65536)
    }

    @Test func slidesWithAbsentTilesOrCompanionFilesAreNotBounded() {
        #expect(DeclaredSizeLimit.expansion(slide(vendor: "philips", codes: [7], bytes: 1)) == nil)
        #expect(DeclaredSizeLimit.expansion(slide(vendor: "mirax", codes: nil, bytes: 1)) == nil)
    }
}
