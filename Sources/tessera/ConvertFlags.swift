import ArgumentParser
import Conversion
import Foundation
import NGFF
import Pyramid
import ZarrCore

/// The convert options that change the stored bytes, shared by `tessera convert`,
/// `tessera plan` (which records them in job.json) and `tessera run` (which turns the
/// recorded ones back into ConvertOptions): one parser, so a job converts exactly as
/// `tessera convert` would with the same flags.
struct ConvertFlags: ParsableArguments {
    @Option(help: "NGFF version: 0.4 (Zarr v2) or 0.5 (Zarr v3, sharded).") var ngff = "0.5"
    @Option(help: "Chunk size: one value for every spatial axis, or a list right-aligned to the axes.") var chunks: String?
    @Option(help: "Shard size (0.5), like --chunks; 0 turns sharding off.") var shards: String?
    @Option(help: "Compression: \(CodecChoice.allCases.map(\.rawValue).joined(separator: "|")) (default: blosc-zstd, level 5; 8-bit RGB: \(ConvertOptions.rgbDefaultDescription)). jpeg is lossy and opt-in: 8-bit data, --ngff 0.4 only.") var codec: String?
    @Option(help: "Compression level (jpeg: the quality, 1...100, default \(JpegCodec.defaultQuality)).") var level: Int?
    @Option(help: "Downsampling: \(DownsampleMethod.allCases.map(\.rawValue).joined(separator: "|")).") var downsample = "mean"
    @Flag(name: .customLong("downsample-z"), help: "Always halve z with y and x.") var downsampleZ = false
    @Flag(name: .customLong("no-downsample-z"), help: "Never halve z.") var noDownsampleZ = false
    @Option(help: "HDF5 and HDF4 axis names, slowest first, e.g. zyx.") var axes: String?
    @Option(name: .customLong("pages-as"), help: "Multi-page TIFF pages become z, c or t.") var pagesAs = "z"
    @Option(name: .customLong("fits-hdus"), help: "FITS image HDUs: each (one image each) or channels (stacked).") var fitsHDUs = "each"
    @Flag(name: .customLong("use-existing-levels"), help: "Copy a TIFF's own SubIFD pyramid instead of downsampling.") var useExistingLevels = false
    @Option(name: .customLong("max-pixels"), help: "Accept inputs declaring up to this many pixels, whatever their file size (default: a limit from the file size and its compression).") var maxPixels: Int?

    /// Long names (without dashes) of the options that take a value, and of the flags
    /// that take none, as `manifest` records them.
    static let valueKeys: Set<String> = ["ngff", "chunks", "shards", "codec", "level", "downsample", "axes", "pages-as", "fits-hdus", "max-pixels"]
    static let flagKeys: Set<String> = ["downsample-z", "no-downsample-z", "use-existing-levels"]

    /// The checked ConvertOptions these flags ask for; the machine's options (jobs,
    /// memory, overwrite, …) keep their defaults for the caller to set.
    func options() throws -> ConvertOptions {
        var options = ConvertOptions()
        guard let version = NGFFVersion(rawValue: ngff) else { throw UsageError("--ngff must be 0.4 or 0.5") }
        options.ngff = version
        options.chunks = try chunks.map { try parseShape($0, option: "--chunks") }
        if let shards {
            options.shards = shards.trimmingCharacters(in: .whitespaces) == "0" ? [0] : try parseShape(shards, option: "--shards")
        }
        if let codec {
            guard let c = CodecChoice(rawValue: codec) else { throw UsageError("unknown --codec '\(codec)'") }
            options.codec = c
            try c.checkLevel(level)
            if let refusal = c.refusal(format: version.zarrFormat) { throw UsageError(refusal) }
        }
        options.level = level
        guard let method = DownsampleMethod(rawValue: downsample) else { throw UsageError("unknown --downsample '\(downsample)'") }
        options.downsample = method
        guard !(downsampleZ && noDownsampleZ) else { throw UsageError("--downsample-z and --no-downsample-z exclude each other") }
        options.zDownsampling = downsampleZ ? .always : noDownsampleZ ? .never : .auto
        options.source.axes = axes
        guard ["z", "c", "t"].contains(pagesAs) else { throw UsageError("--pages-as must be z, c or t") }
        options.source.pagesAs = pagesAs
        guard ["each", "channels"].contains(fitsHDUs) else { throw UsageError("--fits-hdus must be each or channels") }
        options.source.stackFITSHDUs = fitsHDUs == "channels"
        options.useExistingLevels = useExistingLevels
        if let maxPixels {
            guard maxPixels > 0 else { throw UsageError("--max-pixels must be a positive number of pixels") }
            options.maxPixels = maxPixels
        }
        return options
    }

    /// The flags given a value other than their default, by long name without dashes
    /// (a flag that takes no value → "true"): job.json's `convert` object.
    var manifest: [String: String] {
        var m = [String: String]()
        if ngff != "0.5" { m["ngff"] = ngff }
        if let chunks { m["chunks"] = chunks }
        if let shards { m["shards"] = shards }
        // Recorded whenever given: no codec is the default for every image (8-bit RGB has its own).
        if let codec { m["codec"] = codec }
        if let level { m["level"] = String(level) }
        if downsample != "mean" { m["downsample"] = downsample }
        if downsampleZ { m["downsample-z"] = "true" }
        if noDownsampleZ { m["no-downsample-z"] = "true" }
        if let axes { m["axes"] = axes }
        if pagesAs != "z" { m["pages-as"] = pagesAs }
        if fitsHDUs != "each" { m["fits-hdus"] = fitsHDUs }
        if useExistingLevels { m["use-existing-levels"] = "true" }
        if let maxPixels { m["max-pixels"] = String(maxPixels) }
        return m
    }

    /// The flags a manifest's `convert` object records, read back through the same parser
    /// as the command line (so a value it would refuse is refused here too).
    static func from(manifest: [String: String]) throws -> ConvertFlags {
        var argv = [String]()
        for (key, value) in manifest.sorted(by: { $0.key < $1.key }) {
            if flagKeys.contains(key) {
                guard value == "true" else { throw UsageError("job convert option '\(key)' takes no value: it must be \"true\", not '\(value)'") }
                argv.append("--" + key)
            } else if valueKeys.contains(key) {
                // `--key=value`, so a value starting with a dash is never taken for a flag.
                argv.append("--\(key)=\(value)")
            } else {
                throw UsageError("job convert option '\(key)' is not a convert option Tessera knows "
                                 + "(known: \((valueKeys.union(flagKeys)).sorted().joined(separator: ", ")))")
            }
        }
        do {
            return try parse(argv)
        } catch {
            throw UsageError("job convert options: \(fullMessage(for: error))")
        }
    }
}
