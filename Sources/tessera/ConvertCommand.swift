import ArgumentParser
import Conversion
import Foundation
import ImageSources
import NGFF
import Pyramid
import Render
import ZarrCore

struct ConvertCommand: AsyncParsableCommand {
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
    @OptionGroup var flags: ConvertFlags
    @Option(help: "A label image written under labels/ (mode downsampling).") var labels: String?
    @Option(name: .customLong("window-from"), help: "An NGFF image whose omero windows every output reuses.") var windowFrom: String?
    @OptionGroup var machine: MachineFlags
    @Flag(name: .customLong("fail-fast"), help: "Stop a batch at its first bad input (default: convert every other input, then fail).") var failFast = false
    @Flag(help: "Replace an existing output: only a Zarr hierarchy or Tessera's own output, never one holding an input.") var overwrite = false
    @Flag(help: "Finish an interrupted conversion, keeping what is stored.") var resume = false
    @Flag(help: "Also store each image's thumbnail and quicklook (.tessera-thumbnail.png, .tessera-quicklook.jpg), served by the gateway.") var thumbnails = false
    @OptionGroup var catalog: CatalogFlags

    func run() async throws {
        try await reportingErrorsAsync {
            guard paths.count >= 2 else { throw UsageError("convert needs at least one input and an output") }
            var options = try flags.options()
            options.labelsPath = labels
            options.windowFrom = windowFrom
            try machine.apply(to: &options)
            guard !(overwrite && resume) else { throw UsageError("--overwrite and --resume exclude each other") }
            options.overwrite = overwrite
            options.resume = resume
            options.failFast = failFast
            if thumbnails {
                options.afterImage = { store, path in try StoredPictures.write(store: store, path: path, rendererVersion: Renderer.version) }
            }

            var job = ConvertJob(inputs: Array(paths.dropLast()), output: paths.last!, options: options, log: logLine)
            let recorder = try await catalog.recorder()
            job.observer = recorder
            let s: ConvertSummary
            do {
                s = try await runOffThePool { [job] in try job.run() }
            } catch {
                await recorder?.close()
                throw error
            }
            await recorder?.close()
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
