@testable import Conversion
import ImageSources
import NGFF
import Testing
import ZarrCore

/// The codec `tessera convert` writes when `--codec` is not given: 8-bit RGB has its own
/// default (Docs/convert.md, "Codecs for slides"); explicit flags always win.
@Suite struct ImageDefaultsTests {
    static func image(_ axes: [String], _ shape: [Int], _ type: DataType) -> ImageDescription {
        ImageDescription(name: "i", axes: axes.map { ImageAxis(name: $0) }, shape: shape, dataType: type)
    }

    /// The blosc codec inside level 0's shards (or chunks, for 0.4).
    static func levelZeroBlosc(_ d: ImageDescription, _ options: ConvertOptions) throws -> BloscCodec? {
        let codecs = try ImagePlan(d, options: options).arrays[0].codecs
        return (codecs.sharding?.codecs ?? codecs).bytesToBytes.first as? BloscCodec
    }

    static let rgb = image(["c", "y", "x"], [3, 1024, 1536], .uint8)

    @Test func eightBitRGBGetsItsOwnLevelAndWholePixelChunks() throws {
        for ngff in [NGFFVersion.v05, .v04] {
            var o = ConvertOptions()
            o.ngff = ngff
            let b = try #require(try Self.levelZeroBlosc(Self.rgb, o))
            #expect(b.cname == "zstd" && b.clevel == 1, "\(ngff): \(b)")
            // c = 3 in every chunk (and shard): one object per RGB tile, a third of the objects.
            let level0 = try ImagePlan(Self.rgb, options: o).arrays[0]
            #expect((level0.codecs.sharding?.innerChunkShape ?? level0.chunkShape) == [3, 256, 256], "\(ngff)")
            #expect(level0.chunkShape == (ngff == .v05 ? [3, 1024, 1536] : [3, 256, 256]), "\(ngff)")
        }
        var chunks = ConvertOptions()
        chunks.chunks = [512]  // `--chunks 512`: every spatial axis 512, c stays 1 as for any image
        let given = try ImagePlan(Self.rgb, options: chunks).arrays[0]
        #expect(given.codecs.sharding?.innerChunkShape == [1, 512, 512])
    }

    @Test func otherImagesKeepBloscZstdFive() throws {
        for d in [Self.image(["y", "x"], [512, 512], .uint16), Self.image(["y", "x"], [512, 512], .uint8),
                  Self.image(["c", "y", "x"], [3, 512, 512], .uint16), Self.image(["c", "y", "x"], [4, 512, 512], .uint8),
                  Self.image(["c", "z", "y", "x"], [2, 8, 64, 64], .float32)] {
            let b = try #require(try Self.levelZeroBlosc(d, ConvertOptions()))
            #expect(b.cname == "zstd" && b.clevel == 5 && b.shuffle == .shuffle, "\(d.shape) \(d.dataType): \(b)")
            let level0 = try ImagePlan(d, options: ConvertOptions()).arrays[0]
            if d.axisNames.first == "c" { #expect(level0.codecs.sharding?.innerChunkShape.first == 1, "\(d.shape)") }
        }
    }

    @Test func explicitFlagsWin() throws {
        var o = ConvertOptions()
        o.codec = .bloscZstd  // `--codec blosc-zstd` given: its own default level, 5
        #expect(try Self.levelZeroBlosc(Self.rgb, o)?.clevel == 5)
        o.level = 7
        #expect(try Self.levelZeroBlosc(Self.rgb, o)?.clevel == 7)
        o.codec = .bloscLz4
        o.level = nil
        let lz4 = try #require(try Self.levelZeroBlosc(Self.rgb, o))
        #expect(lz4.cname == "lz4" && lz4.clevel == 5)
        var levelOnly = ConvertOptions()
        levelOnly.level = 3  // `--level 3` alone: the image's default codec at that level
        #expect(try Self.levelZeroBlosc(Self.rgb, levelOnly)?.clevel == 3)
        o.codec = ConvertOptions.rgbDefault.choice
        o.level = nil
        #expect(o.codec(for: Self.rgb).level == nil, "an explicit codec takes its own default level")
    }
}
