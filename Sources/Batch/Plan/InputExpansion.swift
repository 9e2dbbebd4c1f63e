import Foundation
import ImageSources

/// One input of a plan, before it is sized: a local file (absolute; for HDF5 optionally
/// `path:/dataset`) or `s3://bucket/key`, with the output name a CSV row gave it.
public struct PlanInput: Sendable, Equatable {
    public var input: String
    /// Relative to the output root; nil = named by `OutputNaming`.
    public var output: String?
    /// What named the input, for messages: the argument, or the CSV row `list.csv:4`.
    public var origin: String

    public init(input: String, output: String? = nil, origin: String) {
        self.input = input
        self.output = output
        self.origin = origin
    }
}

/// `tessera plan`'s INPUTS, each turned into files: a file as given, a folder's images at
/// any depth, a glob pattern's matches, a CSV/TSV list's rows, an S3 prefix's objects
/// (listed a page at a time). Anything that names nothing is an error naming it.
public enum InputExpansion {
    public static func expand(_ arguments: [String], workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> [PlanInput] {
        var out = [PlanInput]()
        var seen = Set<String>()
        func add(_ p: PlanInput) {
            if seen.insert(p.input + "\u{0}" + (p.output ?? "")).inserted { out.append(p) }
        }
        for argument in arguments {
            if argument.hasPrefix("s3://") {
                try S3Inputs.list(argument) { add(PlanInput(input: $0, origin: argument)) }
                continue
            }
            let path = absolutePath(argument, relativeTo: workingDirectory)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    let files = InputWalk.files(under: path)
                    guard !files.isEmpty else { throw PlanError.noImages(argument) }
                    files.forEach { add(PlanInput(input: $0, origin: argument)) }
                } else if CSVInputs.isList(path) {
                    try CSVInputs.read(path).forEach(add)
                } else {
                    add(PlanInput(input: path, origin: argument))
                }
            } else if SourceOpener.splitDatasetPath(path).1 != nil {
                add(PlanInput(input: path, origin: argument)) // file.h5:/dataset
            } else if GlobPattern.isWildcard(argument) {
                let matches = GlobPattern(argument).expand().filter { SourceOpener.looksLikeInput(($0 as NSString).lastPathComponent) }
                guard !matches.isEmpty else { throw PlanError.globMatchesNothing(argument) }
                matches.forEach { add(PlanInput(input: absolutePath($0, relativeTo: workingDirectory), origin: argument)) }
            } else {
                throw PlanError.missingInput(argument)
            }
        }
        return out
    }

    /// `path` made absolute against `folder`, with `.` and `..` resolved as text (links
    /// are not resolved: the path names the file as the user sees it).
    public static func absolutePath(_ path: String, relativeTo folder: String) -> String {
        let joined = path.hasPrefix("/") ? path : folder + "/" + path
        var parts = [Substring]()
        for part in joined.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
