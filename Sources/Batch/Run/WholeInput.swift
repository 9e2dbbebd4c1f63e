import Conversion
import Foundation
import Storage
import ZarrCore

/// A whole input of a job: a local file converts in place; an `s3://` input is staged to
/// a local file first and the staged copy removed after.
enum WholeInput {
    static func convert(_ input: String, into destination: String, options: ConvertOptions,
                        log: @escaping @Sendable (String) -> Void) throws -> InputConversion {
        try LocalInput.with(input) { path in try ConvertJob.convertInput(path, into: destination, options: options, log: log) }
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
        if let modified = try lastModified(input) {
            var times = [timespec(tv_sec: modified, tv_nsec: 0), timespec(tv_sec: modified, tv_nsec: 0)]
            guard utimensat(AT_FDCWD, staged.path, &times, 0) == 0 else {
                throw UsageError("cannot set the time of the staged copy \(staged.path): \(String(cString: strerror(errno)))")
            }
        }
        return try body(staged.path)
    }

    static func lastModified(_ input: String) throws -> Int? {
        let (bucket, key) = try S3Inputs.split(input)
        guard let text = try S3Store(url: "s3://\(bucket)").head(key)?.lastModified else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text).map { Int($0.timeIntervalSince1970) }
    }
}
