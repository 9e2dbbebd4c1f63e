import ImageSources
import NGFF
import Pyramid
import Storage
import ZarrCore

/// What `tessera convert` was asked to do. Nil chunk/shard shapes mean Tessera's defaults
/// (Docs/convert.md, "Chunks and shards").
public struct ConvertOptions: Sendable {
    public var ngff: NGFFVersion = .v05
    /// Right-aligned to the image's axes; one value means "every spatial axis".
    public var chunks: [Int]?
    /// 0.5 only; `[0]` turns sharding off.
    public var shards: [Int]?
    /// `--codec`; nil = Tessera's default for each image (`codec(for:)`).
    public var codec: CodecChoice?
    /// `--level`; nil = the codec's default level (or the image default's).
    public var level: Int?
    public var downsample: DownsampleMethod = .mean
    public var zDownsampling: ZDownsampling = .auto
    public var source = SourceOptions()
    public var jobs = defaultConcurrency
    /// Bytes of pixel buffers the workers may hold at once.
    public var memoryLimit = 1 << 30
    public var overwrite = false
    public var resume = false
    /// A label image to write under `labels/` of a single-image conversion.
    public var labelsPath: String?
    /// Take omero windows from this image instead of each input.
    public var windowFrom: String?
    /// Run after each image's metadata is written (not for labels), given the output store
    /// and the image's path: `--thumbnails` renders the stored pictures there (the CLI
    /// sets it; Conversion knows nothing of rendering). Its failure fails the image.
    public var afterImage: (@Sendable (_ store: any Store, _ path: String) throws -> Void)?
    /// Copy a TIFF's own SubIFD pyramid instead of computing levels.
    public var useExistingLevels = false
    /// Stop a batch at its first bad input instead of converting every other one.
    public var failFast = false
    /// Accept inputs of up to this many declared pixels whatever their file size; nil =
    /// the limit follows from the file size and its compression (`DeclaredSizeLimit`).
    public var maxPixels: Int?
    /// A redrawn progress bar on a terminal (off when several inputs run side by side).
    public var progressBars = true
    /// Flush local output to disk before the metadata that publishes it (`--no-fsync`
    /// turns it off: atomic still, but not safe against power loss).
    public var fsync = true

    public init() {}
}
