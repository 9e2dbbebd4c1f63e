import Foundation
import ImageSources
import NGFF
import Storage
import Synchronization
import ZarrCore

/// The totals printed at the end of a conversion.
public struct ConvertSummary: Sendable {
    public var inputs = 0
    public var images = 0
    public var fileBytes = 0
    public var pixelBytes = 0
    public var outputBytes = 0
    public var written = 0
    public var skipped = 0
    public var seconds = 0.0
    /// Inputs of a batch that could not be converted (each already reported), in order.
    public var failed = [String]()
    /// Inputs the batch tried.
    public var attempted = 0
}

/// `tessera convert INPUT… OUTPUT`: expands directories, decides where each input goes,
/// guards existing outputs, and converts inputs one after another (each one uses every
/// worker, so a batch keeps all cores busy without two inputs competing for memory).
public struct ConvertJob: Sendable {
    public let inputs: [String]
    public let output: String
    public let options: ConvertOptions
    public let log: @Sendable (String) -> Void
    /// Told before and after each input is written (the CLI's catalogue writer).
    public var observer: (any ConversionObserver)?

    public init(inputs: [String], output: String, options: ConvertOptions, log: @escaping @Sendable (String) -> Void) {
        self.inputs = inputs
        self.output = output
        self.options = options
        self.log = log
    }

    public func run() throws -> ConvertSummary {
        let start = Date()
        let files = try expandInputs()
        // One input written at OUTPUT itself: a file, or a folder that is one DICOM input.
        let single = files.count == 1 && (!isDirectory(inputs[0]) || files[0] == inputs[0])
        var destinations = [String]()
        var seen = Set<String>()
        for file in files {
            let destination = single ? output : joinLocation(output, outputName(file) + ".ome.zarr")
            guard seen.insert(destination).inserted else {
                throw UsageError("two inputs would both be written to \(destination); convert them separately")
            }
            destinations.append(destination)
        }
        // Check every destination before converting anything, so a batch fails at once.
        for destination in destinations { _ = try prepare(destination, dryRun: true) }
        let windows = try options.windowFrom.map(Self.windows(from:))
        // Several inputs convert side by side, each with its share of workers and memory,
        // so a folder of small images keeps every core busy; one big input gets them all.
        let width = max(1, min(options.jobs, files.count))
        var share = options
        share.jobs = max(1, options.jobs / width)
        share.memoryLimit = options.memoryLimit / width
        share.progressBars = options.progressBars && width == 1
        let total = Mutex(ConvertSummary())
        let failed = Mutex([Int]())
        let (targets, perInput) = (destinations, share)
        // A batch converts every input it can: a bad one is reported and the rest go on,
        // unless --fail-fast asks for the first failure to stop everything.
        let keepGoing = !single && !options.failFast
        try parallelFor(files.count, width: width) { i in
            do {
                try self.convertOne(files[i], into: targets[i], options: perInput, windows: windows, total: total)
            } catch where keepGoing {
                self.log("tessera: error: \(error)")
                failed.withLock { $0.append(i) }
            }
        }
        var summary = total.withLock { $0 }
        summary.failed = failed.withLock { $0 }.sorted().map { files[$0] }
        summary.attempted = files.count
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// One input: checked, its output prepared and marked (or its mark checked on
    /// --resume), then converted.
    func convertOne(_ file: String, into destination: String, options: ConvertOptions, windows: [ChannelWindow]?,
                            total: borrowing Mutex<ConvertSummary>) throws {
        let source = try SourceOpener.open(file, options: options.source)
        try DeclaredSizeLimit.check(source, maxPixels: options.maxPixels)
        let part = file.hasPrefix(source.path) ? String(file.dropFirst(source.path.count)) : ""
        let identity = try SourceIdentity.of(file: source.path, part: part)
        let (store, mark) = try prepare(destination, dryRun: false)
        if let mark {
            try ResumeCheck.source(identity, mark: mark, location: destination)
        } else {
            try OutputMark(command: "convert", settings: options.storedBytesSettings, source: identity).write(to: store)
        }
        // Refused before writing anything (a usage error found while planning, or the
        // observer's refusal): take the mark back, so the output does not seem to exist when
        // the user retries.
        func takeMarkBack() {
            if mark == nil, (try? store.firstEntries(prefix: "", limit: 2).map(\.key)) == [OutputMark.key] { try? store.delete(OutputMark.key) }
        }
        let result: [ImageSummary]
        let observed = observer.map { _ in
            ObservedConversion(input: file, source: source, part: part, identity: identity, destination: destination)
        }
        do {
            if let observer, let observed { try observer.willConvert(observed) }
        } catch {
            takeMarkBack()
            throw error
        }
        do {
            result = try self.convert(source, into: store, options: options, windows: windows)
            if let observer, let observed {
                let written = result.reduce(0) { $0 + $1.outputBytes }
                try observer.didConvert(observed, output: ObservedOutput(images: result.count, outputBytes: Self.storedBytes(store, orElse: written)))
            }
        } catch {
            if let observer, let observed { observer.didFail(observed, error: error) }
            takeMarkBack()
            throw error
        }
        total.withLock { summary in
            summary.inputs += 1
            summary.images += result.count
            summary.fileBytes += source.fileBytes
            for r in result {
                summary.pixelBytes += r.pixelBytes
                summary.outputBytes += r.outputBytes
                summary.written += r.written
                summary.skipped += r.skipped
            }
        }
    }

    /// One input file: a single image at the root, or the bioformats2raw layout for
    /// files holding several images (OutputLayout says why).
    func convert(_ file: SourceFile, into store: any Store, options: ConvertOptions, windows: [ChannelWindow]?) throws -> [ImageSummary] {
        let layout = OutputLayout(file)
        if options.labelsPath != nil, layout == .bioformats2raw { throw UsageError("--labels needs an input holding a single image") }
        // Every image checked before the first is written: a file whose second image
        // cannot be coded must not leave the first behind.
        if let codec = options.codec {
            if let refusal = codec.refusal(format: options.ngff.zarrFormat) { throw UsageError(refusal) }
            for image in file.images where codec == .jpeg && image.description.dataType != .uint8 {
                let name = file.images.count > 1 ? "image '\(image.description.name)' is" : "it is"
                throw SourceError(file.path, "--codec jpeg writes 8-bit (uint8) images only; \(name) \(image.description.dataType.rawValue): "
                                  + "convert it with a lossless codec")
            }
        }
        // The OME-XML is kept at the same key in both layouts (before the metadata that marks
        // the output complete); for a single image it is a plain object beside the levels, not
        // a group, so readers see one image.
        if let xml = file.omeXML { try store.set("OME/METADATA.ome.xml", Array(xml.utf8)) }
        var results = [ImageSummary]()
        for (i, image) in file.images.enumerated() {
            let d = image.description
            let tessera = ImageGroupAttributes.tessera(file: file, image: d, options: options)
            // Labels first: the image's own metadata, written last, marks everything complete.
            if let labels = options.labelsPath { try convertLabels(labels, for: d, into: store, options: options) }
            let path = layout.imagePath(i)
            let conversion = ImageConversion(source: image, store: store, path: path, options: options,
                                             extraAttributes: ["tessera": tessera], fixedWindows: windows, writeOmero: true, log: log,
                                             sourcePath: file.path)
            results.append(try conversion.run())
        }
        if layout == .bioformats2raw {
            let format = options.ngff.zarrFormat
            try Node.writeGroupMetadata(format: format, attributes: NGFFImageMetadata.omeSeries(version: options.ngff, series: file.images.indices.map(String.init)),
                                        store: store, path: "OME")
            try Node.writeGroupMetadata(format: format, attributes: NGFFImageMetadata.bioformats2rawRoot(version: options.ngff),
                                        store: store, path: "")
        }
        return results
    }

    /// `--labels FILE`: a label image of the same y/x (and z) size, mode-downsampled,
    /// at `labels/NAME/`.
    private func convertLabels(_ path: String, for image: ImageDescription, into store: any Store, options: ConvertOptions) throws {
        let file = try SourceOpener.open(path, options: options.source)
        guard file.images.count == 1, let labels = file.images.first else { throw SourceError(path, "a label file must hold one image") }
        let l = labels.description
        for axis in ["z", "y", "x"] {
            let a = l.axisIndex(axis).map { l.shape[$0] }, b = image.axisIndex(axis).map { image.shape[$0] }
            guard a == b || (a == nil && b == 1) || (a == 1 && b == nil) else {
                throw SourceError(path, "labels have \(axis) size \(a ?? 1), the image has \(b ?? 1)")
            }
        }
        guard !l.dataType.isFloatingPoint else { throw SourceError(path, "labels must be integers, not \(l.dataType.rawValue)") }
        var labelOptions = options
        labelOptions.downsample = .mode
        // Labels are identifiers, not intensities: a lossy codec would invent new ones.
        if options.codec?.isLossy == true { (labelOptions.codec, labelOptions.level) = (nil, nil) }
        let name = SourceOpener.stem(path)
        let imageLabel: JSONValue = .object(["version": .string(NGFFVersion.v05.rawValue), "source": .object(["image": "../../"])])
        var extra: [String: JSONValue] = ["ome": .object(["image-label": imageLabel])]
        extra = NGFFAttributes.translate(extra, to: options.ngff)
        let conversion = ImageConversion(source: labels, store: store, path: "labels/\(name)", options: labelOptions,
                                         extraAttributes: extra.merging(["tessera": .object(["version": .string(tesseraVersion)])]) { a, _ in a },
                                         fixedWindows: nil, writeOmero: false, log: log)
        _ = try conversion.run()
        let format = options.ngff.zarrFormat
        try Node.writeGroupMetadata(format: format, attributes: NGFFImageMetadata.labelsGroup(version: options.ngff, names: [name]),
                                    store: store, path: "labels")
    }

    // MARK: inputs and outputs

    private func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    private func expandInputs() throws -> [String] {
        var files = [String]()
        for input in inputs {
            if isDirectory(input) {
                // A folder whose files are all DICOM is one input (a series or a slide);
                // otherwise each image file in it is, and so is each DICOM folder in it.
                if DICOMOpener.isDICOMFolder(input) {
                    files.append(input)
                    continue
                }
                let entries = try FileManager.default.contentsOfDirectory(atPath: input).sorted()
                let names = entries.filter { name in
                    let child = (input as NSString).appendingPathComponent(name)
                    return isDirectory(child) ? !name.hasPrefix(".") && DICOMOpener.isDICOMFolder(child) : SourceOpener.looksLikeInput(name)
                }
                guard !names.isEmpty else { throw SourceError(input, "the directory holds no \(SourceOpener.formatNames) files") }
                files += names.map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        return files
    }

    private func outputName(_ input: String) -> String {
        let file = input.split(separator: ":", maxSplits: 1).first.map(String.init) ?? input
        return SourceOpener.stem(file)
    }

    /// Refuses to write into an existing output unless `--overwrite` (cleared first, if
    /// `OverwriteGuard` allows) or `--resume` (kept, if it is a conversion with the same
    /// settings — `ResumeCheck`) was given. Returns the output's store and, when resuming
    /// into an existing output, its mark (the source is checked once the input is open).
    func prepare(_ destination: String, dryRun: Bool) throws -> (any Store, OutputMark?) {
        var isDir: ObjCBool = false
        if !destination.contains("://"), FileManager.default.fileExists(atPath: destination, isDirectory: &isDir), !isDir.boolValue {
            throw UsageError("'\(destination)' exists and is not a directory")
        }
        let store = try openStore(destination, durability: options.fsync ? .synced : .unsynced)
        try OverwriteGuard.refuseUnlisted(store, location: destination)
        // Any object under the output (a folder's files, a bucket prefix's keys) means
        // something is already there.
        let occupied = try store.holdsObjects(prefix: "")
        guard occupied else { return (store, nil) }
        if options.overwrite {
            // Every input, as given and as expanded, plus the files options read.
            let inputs = self.inputs + ((try? expandInputs()) ?? []) + [options.labelsPath, options.windowFrom].compactMap { $0 }
            if dryRun {
                try OverwriteGuard.check(store, location: destination, inputs: inputs)
            } else {
                try OverwriteGuard.clear(store, location: destination, inputs: inputs)
            }
            return (store, nil)
        }
        guard options.resume else {
            throw UsageError("'\(destination)' already exists; pass --overwrite to replace it or --resume to finish it")
        }
        let mark = try ResumeCheck.settings(store, location: destination, options: options)
        if !dryRun { store.removeStaleTemporaries() }
        return (store, mark)
    }

    /// `--window-from`: the omero windows of an NGFF image already written.
    static func windows(from path: String) throws -> [ChannelWindow] {
        let store = try openStore(path)
        guard case let .group(_, attributes) = try Node.open(store: store, path: ""),
              let channels = NGFFAttributes.ngff(attributes)?["omero"]?["channels"]?.arrayValue else {
            throw UsageError("'\(path)' is not an NGFF image with omero channel windows")
        }
        return channels.map { c in
            let w = c["window"]
            return ChannelWindow(min: w?["min"]?.doubleValue ?? 0, max: w?["max"]?.doubleValue ?? 0,
                                 start: w?["start"]?.doubleValue ?? 0, end: w?["end"]?.doubleValue ?? 0)
        }
    }
}

/// A child of a local folder or of an s3:// prefix.
public func joinLocation(_ parent: String, _ name: String) -> String {
    parent.contains("://") ? (parent.hasSuffix("/") ? parent + name : parent + "/" + name) : (parent as NSString).appendingPathComponent(name)
}
