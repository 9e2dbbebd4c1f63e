@testable import Conversion
import ImageSources
import NGFF
import Testing
import ZarrCore

/// `--codec jpeg` is opt-in, Zarr v2 only and 8-bit only; no default is ever lossy
/// (Docs/convert.md, "Lossy JPEG").
@Suite struct LossyJpegPlanTests {
    static func image(_ axes: [String], _ shape: [Int], _ type: DataType) -> ImageDescription {
        ImageDescription(name: "i", axes: axes.map { ImageAxis(name: $0) }, shape: shape, dataType: type)
    }

    static let rgb = image(["c", "y", "x"], [3, 1000, 700], .uint8)

    @Test func noDefaultIsLossy() throws {
        for d in [Self.rgb, Self.image(["y", "x"], [512, 512], .uint8), Self.image(["c", "y", "x"], [4, 64, 64], .uint8),
                  Self.image(["z", "y", "x"], [8, 64, 64], .uint16)] {
            for ngff in [NGFFVersion.v04, .v05] {
                var o = ConvertOptions()
                o.ngff = ngff
                #expect(!o.codec(for: d).choice.isLossy, "\(d.shape) \(ngff)")
                let codecs = try ImagePlan(d, options: o).arrays.map { $0.codecs.sharding?.codecs ?? $0.codecs }
                #expect(!codecs.contains { $0.bytesToBytes.contains { $0 is JpegCodec } }, "\(d.shape) \(ngff)")
            }
        }
    }

    @Test func optInWritesEveryLevelAsRowLengthJpeg() throws {
        var o = ConvertOptions()
        o.ngff = .v04
        o.codec = .jpeg
        let arrays = try ImagePlan(Self.rgb, options: o).arrays
        #expect(arrays.count > 1)
        for m in arrays {
            let jpeg = try #require(m.codecs.bytesToBytes.first as? JpegCodec)
            #expect(jpeg.quality == JpegCodec.defaultQuality)
            #expect(jpeg.rowLength == m.chunkShape.last, "each chunk an image as wide as the chunk")
            #expect(try m.v2Metadata(key: "k")["compressor"]?["id"] == "imagecodecs_jpeg")
        }
        o.level = 70
        #expect((try ImagePlan(Self.rgb, options: o).arrays[0].codecs.bytesToBytes.first as? JpegCodec)?.quality == 70)
    }

    @Test func refusedForZarrV3AndForWiderTypes() throws {
        var o = ConvertOptions()
        o.codec = .jpeg  // NGFF 0.5 by default
        #expect(throws: UsageError.self) { _ = try ImagePlan(Self.rgb, options: o) }
        o.ngff = .v04
        #expect(throws: UsageError.self) { _ = try ImagePlan(Self.image(["y", "x"], [256, 256], .uint16), options: o) }
        #expect(throws: UsageError.self) { try CodecChoice.jpeg.checkLevel(0) }
        try CodecChoice.jpeg.checkLevel(100)
        try CodecChoice.bloscZstd.checkLevel(0)
        #expect(CodecChoice.jpeg.refusal(format: .v3) != nil && CodecChoice.jpeg.refusal(format: .v2) == nil)
    }
}
