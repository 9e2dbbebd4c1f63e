import ArgumentParser
import Foundation
import Render
import Storage
import ZarrCore

/// `tessera render IMAGE OUT`: one picture or data cut-out of an NGFF image, with the
/// parameters of the gateway's render route as flags (one grammar: every flag becomes
/// the query parameter of the same name and goes through `RenderRequest`).
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render one plane of an OME-NGFF image (or of a source file) as PNG, JPEG, TIFF, HDF5 or npy (the gateway's render route on the command line).",
        discussion: "IMAGE is the NGFF image group (a folder or s3:// prefix; a bioformats2raw root renders its series 0), or an input file Tessera reads (TIFF, HDF5 file.h5:/dataset, FITS, a slide, …: its first image, with the lower resolutions it stores as levels). The format comes from OUT's extension (.png, .jpg/.jpeg, .tif/.tiff, .h5/.hdf5, .npy) unless --format is given; OUT '-' writes to stdout. --subtract image:ROOT/PATH reads the background image PATH under the folder given by --root ROOT=LOCATION. Docs/render.md states what each parameter does."
    )

    @Argument(help: "The NGFF image (a folder or s3:// prefix holding 'multiscales'), or an input file.") var image: String
    @Argument(help: "The file to write ('-' for stdout).") var output: String

    @Option(help: "png, jpeg, tiff, h5, npy; default from OUT's extension.") var format: String?
    @Option(help: "Read this pyramid level (default: the smallest that covers --size, else 0).") var level: String?
    @Option(help: "Time index (level-0 units).") var t: String?
    @Option(help: "Z index (level-0 units).") var z: String?
    @Option(help: "Channels, e.g. 0,2 (default: omero's active channels, else all).") var channel: String?
    @Option(help: "x,y,w,h in level-0 pixels (default: the whole plane).") var region: String?
    @Option(help: "W (longest side) or W,H: the box the output fits in, aspect kept, never upsampled.") var size: String?
    @Option(help: "min,max | pLOW,pHIGH | omero | none (default: omero, else p0.1,p99.9).") var window: String?
    @Option(help: "region | image (percentiles over the pixels read, or stored statistics).") var stats: String?
    @Option(help: "Background subtraction: N | pN | image:ROOT/PATH | ball:R | median:K | gaussian:S (Docs/render.md).") var subtract: String?
    @Option(help: "clip | keep | shift:N, with --subtract (default clip).") var negative: String?
    @Option(name: .customLong("root"), help: "NAME=LOCATION: where --subtract image:NAME/PATH finds its root (repeatable).")
    var roots: [String] = []
    @Option(help: "gray, viridis, magma, inferno, plasma, cividis (one channel).") var colormap: String?
    @Option(help: "PNG sample depth: 8 or 16 (16: one channel).") var bits: String?
    @Option(help: "JPEG quality 1-100 (default 90).") var quality: String?
    @Option(help: "area | nearest (default area).") var resample: String?
    @Flag(help: "Replace OUT if it exists.") var overwrite = false

    /// The flags as the route's query parameters, in a fixed order.
    func parameters() throws -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        let named: [(String, String?)] = [
            ("format", try format ?? formatFromExtension()), ("level", level), ("t", t), ("z", z), ("c", channel),
            ("region", region), ("size", size), ("window", window), ("stats", stats), ("subtract", subtract),
            ("negative", negative), ("colormap", colormap), ("bits", bits), ("quality", quality), ("resample", resample),
        ]
        for case let (name, value?) in named { out.append((name, value)) }
        return out
    }

    func formatFromExtension() throws -> String? {
        if output == "-" { return nil }
        let ext = (output as NSString).pathExtension
        guard RenderFormat(spelling: ext) != nil else {
            throw RenderError.badParameter("format", "cannot tell the format from the extension of '\(output)'; give --format png|jpeg|tiff|h5|npy")
        }
        return ext
    }

    func run() throws {
        let request: RenderRequest
        do {
            request = try RenderRequest(parameters: parameters())
        } catch let e as RenderError {
            throw ValidationError(e.description)
        }
        try reportingErrors {
            if output != "-", !overwrite, FileManager.default.fileExists(atPath: output) {
                throw UsageError("'\(output)' exists; give --overwrite to replace it")
            }
            let opened = SourceReport.names(image)
                ? try SourceRenderImage.open(image)
                : try RenderImage.open(store: StoreLocation(image).store, path: "")
            let background = try backgroundImage(request)
            let plan: RenderPlan
            do { plan = try RenderPlan(image: opened, request: request, background: background) } catch let e as RenderError where e.parameter != nil {
                throw ValidationError(e.description)
            }
            let rendered = try Renderer.render(plan)
            try write(rendered.bytes)
            let windows = rendered.windows.map(\.description).joined(separator: "; ")
            let subtracted = rendered.subtraction.map { ", subtract \($0)" } ?? ""
            logLine("render: level \(rendered.level), \(rendered.width)×\(rendered.height)\(subtracted)\(windows.isEmpty ? "" : ", window \(windows)"), \(rendered.bytes.count) bytes → \(output)\(rendered.stats.map { " (stats=image: \($0))" } ?? "")")
        }
    }

    /// The image `--subtract image:ROOT/PATH` names, found through `--root ROOT=LOCATION`.
    func backgroundImage(_ request: RenderRequest) throws -> RenderImage? {
        guard case let .image(reference) = request.subtract else { return nil }
        let slash = reference.firstIndex(of: "/") ?? reference.endIndex
        let name = String(reference[..<slash]), path = String(reference[reference.index(after: slash)...])
        var location: String?
        for root in roots {
            guard let equals = root.firstIndex(of: "="), equals != root.startIndex else {
                throw ValidationError("root: '\(root)' is not NAME=LOCATION")
            }
            if root[..<equals] == name { location = String(root[root.index(after: equals)...]) }
        }
        guard let location else {
            throw ValidationError("subtract: the background's root '\(name)' is not given; add --root \(name)=FOLDER")
        }
        return try RenderImage.open(store: StoreLocation(location).store, path: path)
    }

    /// Writes OUT whole or not at all: a temporary file beside it, renamed into place.
    func write(_ bytes: [UInt8]) throws {
        if output == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        let url = URL(fileURLWithPath: output)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tessera-\(getpid()).tmp")
        do {
            try Data(bytes).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw UsageError("cannot write '\(output)': \(error.localizedDescription)")
        }
    }
}
