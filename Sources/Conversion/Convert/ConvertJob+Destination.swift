import Foundation
import ImageSources
import NGFF
import Storage
import Synchronization
import ZarrCore

/// How one input of a bulk job ended.
public struct InputConversion: Sendable {
    /// `done` (converted or resumed now) or `skipped` (already complete).
    public var status: WorkStatus
    public var images = 0
    public var fileBytes = 0
    public var pixelBytes = 0
    public var outputBytes = 0
    /// Objects written by this run (kept ones of a resume not included).
    public var written = 0
    /// Objects a resume kept from before.
    public var kept = 0

    public init(status: WorkStatus, images: Int = 0, fileBytes: Int = 0, pixelBytes: Int = 0, outputBytes: Int = 0, written: Int = 0, kept: Int = 0) {
        (self.status, self.images, self.fileBytes, self.pixelBytes) = (status, images, fileBytes, pixelBytes)
        (self.outputBytes, self.written, self.kept) = (outputBytes, written, kept)
    }
}

extension ConvertJob {
    /// One input into one destination, as a task of `tessera run` converts it, deciding by
    /// what is there: nothing → convert; Tessera's complete output of this very input with
    /// these settings → `skipped`, found without reading pixels or listing chunks (the
    /// mark, and the NGFF metadata naming every level); Tessera's unfinished output →
    /// resume, keeping verified objects; anything else → refused (never overwritten).
    public static func convertInput(_ input: String, into destination: String, options: ConvertOptions,
                                    observer: (any ConversionObserver)? = nil,
                                    log: @escaping @Sendable (String) -> Void) throws -> InputConversion {
        var options = options
        options.overwrite = false
        options.resume = false
        options.failFast = true
        let store = try openStore(destination, durability: options.fsync ? .synced : .unsynced)
        if let mark = try OutputMark.read(from: store), try OutputCompleteness.isComplete(store) {
            _ = try ResumeCheck.settings(store, location: destination, options: options)
            let source = try SourceOpener.open(input, options: options.source)
            let part = input.hasPrefix(source.path) ? String(input.dropFirst(source.path.count)) : ""
            try ResumeCheck.source(try SourceIdentity.of(file: source.path, part: part), mark: mark, location: destination)
            return InputConversion(status: .skipped, fileBytes: source.fileBytes)
        }
        // Absent, or started: a resume (refused with the reason when it is not Tessera's
        // output, or not of this input with these settings).
        options.resume = try store.holdsObjects(prefix: "")
        var job = ConvertJob(inputs: [input], output: destination, options: options, log: log)
        job.observer = observer
        let total = Mutex(ConvertSummary())
        try job.convertOne(input, into: destination, options: options, windows: nil, total: total)
        let s = total.withLock { $0 }
        return InputConversion(status: .done, images: s.images, fileBytes: s.fileBytes, pixelBytes: s.pixelBytes,
                               outputBytes: s.outputBytes, written: s.written, kept: s.skipped)
    }
}

extension ConvertJob {
    /// Whether `destination` is Tessera's complete conversion, with these settings, of a
    /// source `matches` accepts — from metadata documents only. For inputs that are
    /// costly to look at (an S3 object to download), checked before fetching them.
    public static func isComplete(_ destination: String, options: ConvertOptions, matches: (SourceIdentity) -> Bool) throws -> Bool {
        let store = try openStore(destination, durability: options.fsync ? .synced : .unsynced)
        guard let mark = try OutputMark.read(from: store), mark.command == "convert", let source = mark.source, matches(source),
              options.storedBytesSettings.allSatisfy({ mark.settings[$0.key] == $0.value }) else { return false }
        return try OutputCompleteness.isComplete(store)
    }
}

/// Whether an output holds its NGFF metadata, which `tessera convert` writes last: the
/// root group, and every level array its multiscales name (every series' in the
/// bioformats2raw layout). Reads metadata documents only.
enum OutputCompleteness {
    static func isComplete(_ store: any Store) throws -> Bool {
        guard case let .group(_, attributes)? = try? Node.open(store: store, path: ""),
              let ngff = NGFFAttributes.ngff(attributes) else { return false }
        if ngff["bioformats2raw.layout"] != nil {
            guard case let .group(_, ome)? = try? Node.open(store: store, path: "OME"),
                  let series = NGFFAttributes.ngff(ome)?["series"]?.arrayValue, !series.isEmpty else { return false }
            for path in series {
                guard let p = path.stringValue, try imageIsComplete(store, at: p) else { return false }
            }
            return true
        }
        return try imageIsComplete(store, at: "")
    }

    private static func imageIsComplete(_ store: any Store, at path: String) throws -> Bool {
        guard case let .group(_, attributes)? = try? Node.open(store: store, path: path),
              let multiscales = NGFFAttributes.ngff(attributes)?["multiscales"]?.arrayValue, !multiscales.isEmpty else { return false }
        for m in multiscales {
            guard let datasets = m["datasets"]?.arrayValue, !datasets.isEmpty else { return false }
            for d in datasets {
                guard let p = d["path"]?.stringValue, case .array? = try? Node.open(store: store, path: joinKey(path, p)) else { return false }
            }
        }
        return true
    }
}
