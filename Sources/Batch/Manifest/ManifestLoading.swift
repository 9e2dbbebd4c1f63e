import Foundation
import ZarrCore

/// A job manifest that cannot be used: one line naming the file and what is wrong.
public struct ManifestError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "job manifest '\(path)': \(reason)" }
}

extension JobManifest {
    /// A manifest is kilobytes per thousand inputs; a file far larger is not one.
    static let maxBytes = 1 << 30

    /// Reads and checks `path`. Every check runs before any task writes anything: a
    /// manifest is input too, and a hostile one must not send outputs outside the root.
    public static func load(_ path: String) throws -> JobManifest {
        let data: Data
        do {
            // stat, not lstat: a manifest behind a symbolic link is bounded by its target's size.
            var st = stat()
            guard stat(path, &st) == 0 else { throw ManifestError(path, "cannot be read (\(String(cString: strerror(errno))))") }
            if st.st_mode & S_IFMT == S_IFDIR { throw ManifestError(path, "is a directory, not a file") }
            if Int(st.st_size) > maxBytes { throw ManifestError(path, "is \(st.st_size) bytes, too large for a job manifest") }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as ManifestError {
            throw error
        } catch {
            throw ManifestError(path, "cannot be read (\(Self.reason(error)))")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            throw ManifestError(path, "is not JSON")
        }
        guard let object = json as? [String: Any], let version = object["tessera_job"] else {
            throw ManifestError(path, "is not a Tessera job manifest (no \"tessera_job\" key)")
        }
        guard let number = version as? Int, number >= 1 else {
            throw ManifestError(path, "\"tessera_job\" must be a positive schema number")
        }
        guard number <= schemaVersion else {
            throw ManifestError(path, "written by a newer Tessera: job schema \(number), this one reads \(schemaVersion)")
        }
        let manifest: JobManifest
        do { manifest = try JSONDecoder().decode(JobManifest.self, from: data) } catch {
            throw ManifestError(path, "is not a valid job manifest (\(Self.describe(error)))")
        }
        try manifest.validate(path)
        return manifest
    }

    /// Consistency: tasks in range, regions inside the image and of its rank, outputs
    /// unique, relative and staying beneath the root.
    public func validate(_ path: String) throws {
        guard tasks >= 1 else { throw ManifestError(path, "\"tasks\" must be at least 1, not \(tasks)") }
        guard !output.isEmpty else { throw ManifestError(path, "\"output\" is empty") }
        guard !reports.isEmpty else { throw ManifestError(path, "\"reports\" is empty") }
        var outputs = Set<String>()
        for (k, input) in inputs.enumerated() {
            let at = "inputs[\(k)] (\(input.input))"
            guard !input.input.isEmpty else { throw ManifestError(path, "inputs[\(k)] has an empty input") }
            try Self.checkRelative(input.output, at: at, path: path)
            guard outputs.insert(input.output).inserted else {
                throw ManifestError(path, "\(at): output '\(input.output)' is also the output of another input")
            }
            guard input.fileBytes >= 0, input.pixelBytes >= 0 else { throw ManifestError(path, "\(at): negative byte counts") }
            switch (input.task, input.split) {
            case let (task?, nil):
                guard (0..<tasks).contains(task) else { throw ManifestError(path, "\(at): task \(task) is outside 0..<\(tasks)") }
            case let (nil, split?):
                try check(split, at: at, path: path)
            case (_?, _?):
                throw ManifestError(path, "\(at): has both a task and a split")
            case (nil, nil):
                throw ManifestError(path, "\(at): has neither a task nor a split")
            }
        }
    }

    private func check(_ split: JobSplit, at: String, path: String) throws {
        guard split.regionLevels >= 1 else { throw ManifestError(path, "\(at): region_levels must be at least 1") }
        guard !split.regions.isEmpty else { throw ManifestError(path, "\(at): a split with no regions") }
        let rank = split.regions[0].origin.count
        guard rank >= 1 else { throw ManifestError(path, "\(at): regions of rank 0") }
        for (r, region) in split.regions.enumerated() {
            let here = "\(at) region \(r)"
            guard (0..<tasks).contains(region.task) else { throw ManifestError(path, "\(here): task \(region.task) is outside 0..<\(tasks)") }
            guard region.origin.count == rank, region.shape.count == rank else {
                throw ManifestError(path, "\(here): origin and shape must both have the image's rank \(rank)")
            }
            guard region.origin.allSatisfy({ $0 >= 0 }), region.shape.allSatisfy({ $0 >= 1 }) else {
                throw ManifestError(path, "\(here): a negative origin or an empty shape")
            }
            for (o, s) in zip(region.origin, region.shape) where o.addingReportingOverflow(s).overflow {
                throw ManifestError(path, "\(here): origin \(o) + shape \(s) overflows")
            }
        }
    }

    /// Outputs are names under the root: not absolute, no `..`, no URL, no empty part.
    static func checkRelative(_ output: String, at: String, path: String) throws {
        guard !output.isEmpty else { throw ManifestError(path, "\(at): empty output") }
        guard !output.hasPrefix("/"), !output.contains("://"), !output.contains("\\") else {
            throw ManifestError(path, "\(at): output '\(output)' must be relative to the output root")
        }
        let parts = output.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }), !output.contains("\0") else {
            throw ManifestError(path, "\(at): output '\(output)' must stay beneath the output root (no '..', '.' or empty parts)")
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError || ns.code == NSFileNoSuchFileError { return "no such file" }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoPermissionError { return "permission denied" }
        return ns.localizedDescription
    }

    static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, context)?:
            return "missing \(Self.keyPath(context.codingPath + [key]))"
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?, let .dataCorrupted(context)?:
            return "wrong type at \(Self.keyPath(context.codingPath))"
        default:
            return "\(error)"
        }
    }

    static func keyPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
