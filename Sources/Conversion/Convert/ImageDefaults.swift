import ImageSources
import ZarrCore

/// What `tessera convert` writes when the flags leave it open and the image decides
/// (Docs/convert.md, "Chunks and shards" and "Codecs for slides").
extension ConvertOptions {
    /// The codec (and level; nil = the codec's own default) an image is written with: the
    /// flags when given, else Tessera's default for the image's data. The default is
    /// blosc-zstd at blosc level 5, except for 8-bit RGB (`isEightBitRGB`), where the
    /// measured table in Docs/convert.md ("Codecs for slides") shows a lower level costs
    /// a fraction of the CPU for almost the same size: decoded JPEG content is noise-like,
    /// so zstd's higher levels find little more to remove.
    public func codec(for image: ImageDescription) -> (choice: CodecChoice, level: Int?) {
        if let codec { return (codec, level) }
        if Self.isEightBitRGB(image) { return (Self.rgbDefault.choice, level ?? Self.rgbDefault.level) }
        return (.bloscZstd, level)
    }

    /// uint8 with a c axis of 3: slides, RGB TIFF, DICOM and DM colour images. Their
    /// default chunks hold all three channels (`ImagePlan`): the same bytes compressed as
    /// well (Docs/convert.md's table), a third of the objects, one request per RGB tile.
    public static func isEightBitRGB(_ image: ImageDescription) -> Bool {
        guard image.dataType == .uint8, let c = image.axes.firstIndex(where: { $0.name == "c" }) else { return false }
        return image.shape[c] == 3
    }

    /// Tessera's default for 8-bit RGB (blosc's byte shuffle is a no-op on 1-byte items).
    public static let rgbDefault = (choice: CodecChoice.bloscZstd, level: 1)

    /// The RGB default as `--help` names it.
    public static var rgbDefaultDescription: String { "\(rgbDefault.choice.rawValue), level \(rgbDefault.level)" }
}
