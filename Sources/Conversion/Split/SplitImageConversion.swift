import Foundation
import ImageSources
import NGFF
import Storage
import ZarrCore

/// What one step of a split image did, for the job's report.
public struct SplitStepSummary: Sendable {
    /// `done` (this call converted the region or finished the image) or `skipped`.
    public var status: WorkStatus
    /// This call wrote the image's group metadata: the image is complete.
    public var finished: Bool
    /// Objects and bytes the region step wrote, and its level-0 pixel bytes.
    public var written, outputBytes, pixelBytes: Int
    /// Objects and bytes the finishing step wrote.
    public var finishWritten, finishBytes: Int

    public init(status: WorkStatus, finished: Bool = false, written: Int = 0, outputBytes: Int = 0, pixelBytes: Int = 0,
                finishWritten: Int = 0, finishBytes: Int = 0) {
        (self.status, self.finished, self.written, self.outputBytes, self.pixelBytes) = (status, finished, written, outputBytes, pixelBytes)
        (self.finishWritten, self.finishBytes) = (finishWritten, finishBytes)
    }
}

/// One image converted by several tasks: each converts a region of level 0 (`SplitPlanner`)
/// through the levels below `regionLevels`, writing only objects inside its region; the
/// task that completes the last region (or `tessera finalize`) builds the levels above from
/// level `regionLevels - 1` read back, and writes the group metadata last. The result is
/// byte for byte what `tessera convert` writes for the same input and options.
///
/// State lives in the output: the `OutputMark` (created once, checked by every later task),
/// region markers and the finishing claim (`SplitMarkers`).
public struct SplitImageConversion: Sendable {
    let input: String
    let store: any Store
    let location: String
    let options: ConvertOptions
    let regions: [Region]
    let regionLevels: Int
    let log: @Sendable (String) -> Void
    /// Opens the input (tests hand in images held in memory).
    var open: @Sendable (String, SourceOptions) throws -> SourceFile = { try SourceOpener.open($0, options: $1) }

    public init(input: String, output: any Store, location: String, options: ConvertOptions, regions: [Region], regionLevels: Int,
                log: @escaping @Sendable (String) -> Void) {
        (self.input, self.store, self.location, self.options) = (input, output, location, options)
        (self.regions, self.regionLevels, self.log) = (regions, regionLevels, log)
    }

    /// The input, open, with its plan and identity.
    struct Opened {
        let file: SourceFile
        let image: any ImageSource
        let plan: ImagePlan
        let identity: SourceIdentity
    }

    func openInput() throws -> Opened {
        let file = try open(input, options.source)
        try DeclaredSizeLimit.check(file, maxPixels: options.maxPixels)
        guard file.images.count == 1, let image = file.images.first else {
            throw SourceError(input, "holds \(file.images.count) images; only a file holding one image can be split into regions")
        }
        guard !options.useExistingLevels, options.labelsPath == nil else {
            throw UsageError("\(input): --use-existing-levels and --labels convert an image whole; it cannot be split into regions")
        }
        let plan = try ImagePlan(image.description, options: options)
        guard (1...plan.levels.count).contains(regionLevels), !regions.isEmpty else {
            throw UsageError("\(input): the job's split (\(regions.count) regions, \(regionLevels) region levels) does not fit the image's "
                             + "\(plan.levels.count) levels; plan the job again")
        }
        let part = input.hasPrefix(file.path) ? String(input.dropFirst(file.path.count)) : ""
        return Opened(file: file, image: image, plan: plan, identity: try SourceIdentity.of(file: file.path, part: part))
    }

    /// The output is this conversion's: its mark is created here (once, whoever comes
    /// first) or checked (same settings, same source). An output holding anything else
    /// without a mark is not Tessera's and is refused.
    func claimOutput(_ o: Opened) throws {
        if try OutputMark.read(from: store) == nil {
            let present = try store.list(prefix: "")
            if !present.isEmpty, !present.contains(where: { $0.key == OutputMark.key }) {
                throw UsageError("'\(location)' already holds objects Tessera did not start (\(present[0].key)); it will not write into it")
            }
            try OverwriteGuard.refuseUnlisted(store, location: location)
            let mark = OutputMark(command: "convert", settings: options.storedBytesSettings, source: o.identity)
            if try store.createIfAbsent(OutputMark.key, mark.json.serialized()) { return }
        }
        let mark = try ResumeCheck.settings(store, location: location, options: options)
        try ResumeCheck.source(o.identity, mark: mark, location: location)
    }

    /// How many regions are done, and whether the image is complete (its group metadata,
    /// written last, is there).
    public func status() throws -> (regionsDone: Int, finished: Bool) {
        let done = try SplitMarkers.done(in: store).filter { regions.indices.contains($0) }.count
        return (done, try isFinished())
    }

    func isFinished() throws -> Bool {
        guard case let .group(_, attributes)? = try? Node.open(store: store, path: "") else { return false }
        return !NGFFAttributes.levelAxes(attributes).isEmpty
    }
}
