import Conversion
import Foundation
import Storage
import ZarrCore

/// A whole input of a job: a local file converts in place; an `s3://` input is staged to
/// a local file first and the staged copy removed after.
enum WholeInput {
    static func convert(_ input: String, into destination: String, options: ConvertOptions,
                        observer: (any ConversionObserver)? = nil,
                        log: @escaping @Sendable (String) -> Void) throws -> InputConversion {
        // An S3 object whose complete output names its size and Last-Modified is not
        // downloaded again: a rerun of a finished job stays a metadata check.
        if input.hasPrefix("s3://"), let (size, modified) = try LocalInput.objectVersion(input),
           try ConvertJob.isComplete(destination, options: options, matches: { $0.size == size && $0.modified == Int64(modified) * 1_000_000_000 }) {
            return InputConversion(status: .skipped, fileBytes: size)
        }
        return try LocalInput.with(input) { path in try ConvertJob.convertInput(path, into: destination, options: options, observer: observer, log: log) }
    }
}

/// The local file the image readers open for an input.
enum LocalInput {
    /// Runs `body` with a local path for `input`: itself, or a staged copy of an S3 object
    /// (removed after). The copy gets the object's Last-Modified as its mtime, so every
    /// staging of one object has the same identity (`SourceIdentity`): a rerun resumes or
    /// skips its output, and the regions of a split image agree on their source.
    static func with<T>(_ input: String, _ body: (String) throws -> T) throws -> T {
        guard input.hasPrefix("s3://") else { return try body(input) }
        let staged = try StagedInput.stage(input, headerOnly: false)
        defer { staged.remove() }
        if let (_, modified) = try objectVersion(input) {
            var times = [timespec(tv_sec: modified, tv_nsec: 0), timespec(tv_sec: modified, tv_nsec: 0)]
            guard utimensat(AT_FDCWD, staged.path, &times, 0) == 0 else {
                throw UsageError("cannot set the time of the staged copy \(staged.path): \(String(cString: strerror(errno)))")
            }
        }
        return try body(staged.path)
    }

    /// The object's size and Last-Modified (seconds), when it has one.
    static func objectVersion(_ input: String) throws -> (size: Int, modified: Int)? {
        let (bucket, key) = try S3Inputs.split(input)
        guard let info = try S3Store(url: "s3://\(bucket)").head(key), let modified = info.lastModifiedSeconds else { return nil }
        return (info.size, modified)
    }
}
