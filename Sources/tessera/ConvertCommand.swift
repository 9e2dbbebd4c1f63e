import ArgumentParser
import Conversion
import Foundation
import ImageSources
import NGFF
import Pyramid
import ZarrCore

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert TIFF/OME-TIFF/BigTIFF, HDF5 and FITS images to multiscale OME-NGFF.",
        discussion: """
        Reads each source once, block by block, and builds every pyramid level from the \
        blocks in memory, so memory stays bounded whatever the image size. The image's \
        NGFF metadata is written last: an output without it is incomplete, and --resume \
        finishes it without redoing stored chunks or shards. Exact layout and arithmetic: \
        Docs/convert.md.
        """
    )

    @Argument(help: "Input files or directories, then the output (an image, or a folder for several inputs).")
    var paths: [String]
    @Option(help: "NGFF version: 0.4 (Zarr v2) or 0.5 (Zarr v3, sharded).") var ngff = "0.5"
    @Option(help: "Chunk size: one value for every spatial axis, or a list right-aligned to the axes.") var chunks: String?
    @Option(help: "Shard size (0.5), like --chunks; 0 turns sharding off.") var shards: String?
    @Option(help: "Compression: \(CodecChoice.allCases.map(\.rawValue).joined(separator: "|")).") var codec = "blosc-zstd"
    @Option(help: "Compression level.") var level: Int?
    @Option(help: "Downsampling: \(DownsampleMethod.allCases.map(\.rawValue).joined(separator: "|")).") var downsample = "mean"
    @Flag(name: .customLong("downsample-z"), help: "Always halve z with y and x.") var downsampleZ = false
    @Flag(name: .customLong("no-downsample-z"), help: "Never halve z.") var noDownsampleZ = false
    @Option(help: "HDF5 axis names, slowest first, e.g. zyx.") var axes: String?
    @Option(name: .customLong("pages-as"), help: "Multi-page TIFF pages become z, c or t.") var pagesAs = "z"
    @Option(name: .customLong("fits-hdus"), help: "FITS image HDUs: each (one image each) or channels (stacked).") var fitsHDUs = "each"
    @Flag(name: .customLong("use-existing-levels"), help: "Copy a TIFF's own SubIFD pyramid instead of downsampling.") var useExistingLevels = false
    @Option(help: "A label image written under labels/ (mode downsampling).") var labels: String?
    @Option(name: .customLong("window-from"), help: "An NGFF image whose omero windows every output reuses.") var windowFrom: String?
    @Option(help: "Parallel workers (default: cores).") var jobs: Int = defaultConcurrency
    @Option(help: "Memory for pixel buffers, e.g. 512MiB, 2GiB.") var memory = "1GiB"
    @Option(name: .customLong("max-pixels"), help: "Accept inputs declaring up to this many pixels, whatever their file size (default: a limit from the file size and its compression).") var maxPixels: Int?
    @Flag(name: .customLong("fail-fast"), help: "Stop a batch at its first bad input (default: convert every other input, then fail).") var failFast = false
    @Flag(help: "Replace an existing output: only a Zarr hierarchy or Tessera's own output, never one holding an input.") var overwrite = false
    @Flag(help: "Finish an interrupted conversion, keeping what is stored.") var resume = false

    func run() throws {
        try reportingErrors {
            guard paths.count >= 2 else { throw UsageError("convert needs at least one input and an output") }
            var options = ConvertOptions()
            guard let version = NGFFVersion(rawValue: ngff) else { throw UsageError("--ngff must be 0.4 or 0.5") }
            options.ngff = version
            options.chunks = try chunks.map { try parseShape($0, option: "--chunks") }
            if let shards {
                options.shards = shards.trimmingCharacters(in: .whitespaces) == "0" ? [0] : try parseShape(shards, option: "--shards")
            }
            guard let c = CodecChoice(rawValue: codec) else { throw UsageError("unknown --codec '\(codec)'") }
            options.codec = c
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
            options.labelsPath = labels
            options.windowFrom = windowFrom
            options.jobs = max(1, jobs)
            options.memoryLimit = try parseBytes(memory)
            guard !(overwrite && resume) else { throw UsageError("--overwrite and --resume exclude each other") }
            options.overwrite = overwrite
            options.resume = resume
            options.failFast = failFast
            if let maxPixels {
                guard maxPixels > 0 else { throw UsageError("--max-pixels must be a positive number of pixels") }
                options.maxPixels = maxPixels
            }

            let job = ConvertJob(inputs: Array(paths.dropLast()), output: paths.last!, options: options, log: logLine)
            let s = try job.run()
            let mb = Double(s.pixelBytes) / 1e6
            logLine(String(format: "converted %d input(s), %d image(s): %.1f MB of pixels (%.1f MB of files) → %.1f MB in %d objects%@, %.2f s, %.1f MB/s",
                           s.inputs, s.images, mb, Double(s.fileBytes) / 1e6, Double(s.outputBytes) / 1e6, s.written,
                           s.skipped > 0 ? " (\(s.skipped) kept from before)" : "", s.seconds, mb / max(s.seconds, 1e-9)))
            // Each failed input was reported as it failed; the exit status says the batch
            // is incomplete, and this last line says which inputs to look at.
            if !s.failed.isEmpty {
                throw UsageError("\(s.failed.count) of \(s.attempted) inputs failed: \(s.failed.joined(separator: ", ")); "
                                 + "the other \(s.attempted - s.failed.count) were converted")
            }
        }
    }
}

/// `512MiB`, `2GiB`, `1.5GB`, `1000000`.
func parseBytes(_ text: String) throws -> Int {
    let kib = 1024.0
    let units: [(String, Double)] = [("KiB", kib), ("MiB", kib * kib), ("GiB", kib * kib * kib), ("TiB", kib * kib * kib * kib),
                                     ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
                                     ("K", kib), ("M", kib * kib), ("G", kib * kib * kib), ("B", 1)]
    let t = text.trimmingCharacters(in: .whitespaces)
    for (suffix, factor) in units where t.hasSuffix(suffix) {
        if let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0 { return Int(v * factor) }
    }
    if let v = Int(t), v > 0 { return v }
    throw UsageError("--memory must be a size such as 512MiB or 2GiB, got '\(text)'")
}
