import Conversion
import Foundation
import ImageSources
import Storage
import Synchronization
import ZarrCore

/// An input with what its header says: the measure the plan balances by.
public struct SizedInput: Sendable, Equatable {
    public var input: PlanInput
    /// `tiff`, `ome-tiff`, `hdf5`, `fits`, or `unknown` when it cannot be opened.
    public var format: String
    public var fileBytes: Int
    /// Level-0 pixel bytes of all its images (the file size when it cannot be opened).
    public var pixelBytes: Int
    public var images: Int
    /// Chunk or shard objects `tessera convert` plans for its images (when asked for).
    public var plannedObjects: Int = 0
    /// Why it cannot be opened (it stays in the plan: `tessera run` reports it failed).
    public var error: String?
}

/// Sizes every input from its header alone (S3 objects from their first and last MiB,
/// `StagedInput`), several at a time.
public enum InputSizing {
    public static func size(_ inputs: [PlanInput], options: ConvertOptions, width: Int, countObjects: Bool = false) -> [SizedInput] {
        let results = Mutex([SizedInput?](repeating: nil, count: inputs.count))
        // Errors are kept per input, never thrown: parallelFor only stops on a throw.
        try? parallelFor(inputs.count, width: width) { i in
            let sized = sizeOne(inputs[i], options: options, countObjects: countObjects)
            results.withLock { $0[i] = sized }
        }
        return results.withLock { $0 }.enumerated().map { i, s in
            s ?? SizedInput(input: inputs[i], format: "unknown", fileBytes: 0, pixelBytes: 0, images: 0, error: "not sized")
        }
    }

    static func sizeOne(_ input: PlanInput, options: ConvertOptions, countObjects: Bool) -> SizedInput {
        var fileBytes = 0
        do {
            return try withOpened(input.input, options: options) { file, bytes in
                fileBytes = bytes
                try DeclaredSizeLimit.check(file, maxPixels: options.maxPixels)
                var pixels = 0
                for image in file.images {
                    let d = image.description
                    var n = d.dataType.size
                    for s in d.shape {
                        let (m, o) = n.multipliedReportingOverflow(by: s)
                        guard !o else { throw SourceError(input.input, "declares more pixels than can be counted (\(d.shape))") }
                        n = m
                    }
                    let (sum, o) = pixels.addingReportingOverflow(n)
                    guard !o else { throw SourceError(input.input, "declares more pixels than can be counted") }
                    pixels = sum
                }
                // Only for --estimate; an image convert would refuse simply counts nothing.
                let objects = countObjects ? file.images.reduce(0) { $0 &+ ((try? SampleConversion.plannedObjects($1.description, options: options)) ?? 0) } : 0
                return SizedInput(input: input, format: file.format.rawValue, fileBytes: bytes, pixelBytes: pixels,
                                  images: file.images.count, plannedObjects: objects, error: nil)
            }
        } catch {
            if fileBytes == 0 { fileBytes = objectSize(input.input) }
            return SizedInput(input: input, format: "unknown", fileBytes: fileBytes, pixelBytes: fileBytes, images: 0,
                              error: String(describing: error))
        }
    }

    /// Opens an input's headers (staging an S3 object's head and tail, or the whole object
    /// when those are not enough) and hands the file and its size to `body`.
    public static func withOpened<T>(_ input: String, options: ConvertOptions, _ body: (SourceFile, Int) throws -> T) throws -> T {
        guard input.hasPrefix("s3://") else {
            let file = try SourceOpener.open(input, options: options.source)
            return try body(file, file.fileBytes)
        }
        var staged = try StagedInput.stage(input, headerOnly: true)
        defer { staged.remove() }
        do {
            let file: SourceFile
            do {
                file = try SourceOpener.open(staged.path, options: options.source)
            } catch where staged.headerOnly {
                staged.remove()
                staged = try StagedInput.stage(input, headerOnly: false)
                file = try SourceOpener.open(staged.path, options: options.source)
            }
            return try body(file, file.fileBytes)
        } catch let error as SourceError {
            // Name the object, not its temporary copy.
            throw SourceError(input, error.reason)
        }
    }

    /// The size of a file or S3 object, 0 when it cannot be found.
    static func objectSize(_ input: String) -> Int {
        if input.hasPrefix("s3://") {
            guard let (bucket, key) = try? S3Inputs.split(input), let store = try? S3Store(url: "s3://\(bucket)") else { return 0 }
            return ((try? store.size(key)) ?? nil) ?? 0
        }
        let (path, _) = SourceOpener.splitDatasetPath(input)
        return SourceOpener.fileSize(path)
    }
}
