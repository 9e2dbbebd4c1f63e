import Foundation
import ImageSources

/// One polling scan of a watched folder: the truth the watcher acts on (it works on NFS and
/// SMB mounts, where change notifications miss other hosts' writes). Recursive and bounded;
/// `lstat` only, so a symbolic link is never followed (nothing outside the folder is read);
/// skips hidden names, names writers use while a file is incomplete (`*.part`, `*.tmp`,
/// `*~`, rsync's `.name.XXXXXX`, office `.~lock…`), Tessera's outputs (`*.zarr` folders and
/// the output root), and files that do not look like an input (`SourceOpener.looksLikeInput`).
public struct DirectoryScanner: Sendable {
    public let root: String
    /// Folders never entered (the output root when it lies inside the watched folder).
    public let excluded: Set<String>
    public static let maxDepth = 64
    public static let maxEntries = 1_000_000

    public init(root: String, excluded: Set<String> = []) {
        self.root = root
        self.excluded = excluded
    }

    public struct Found: Sendable, Equatable {
        /// Absolute path.
        public var path: String
        /// Relative to the watched folder.
        public var relative: String
        public var observation: FileObservation
    }

    /// Every candidate file now, sorted by relative path. A folder that cannot be read is
    /// skipped (reported once through `warn`); the scan goes on.
    public func scan(warn: (String) -> Void = { _ in }) -> [Found] {
        var found = [Found]()
        var visited = 0
        walk(root, relative: "", depth: 0, into: &found, visited: &visited, warn: warn)
        return found.sorted { $0.relative < $1.relative }
    }

    public static func isCandidateName(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower.hasPrefix(".") || lower.hasSuffix("~") || lower.hasSuffix(".part") || lower.hasSuffix(".tmp") { return false }
        return SourceOpener.looksLikeInput(name)
    }

    private func walk(_ folder: String, relative: String, depth: Int, into found: inout [Found], visited: inout Int,
                      warn: (String) -> Void) {
        guard depth <= Self.maxDepth else { warn("\(folder): deeper than \(Self.maxDepth) folders, not scanned"); return }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            warn("\(folder): cannot be read: \(error.localizedDescription)")
            return
        }
        for name in names.sorted() {
            visited += 1
            guard visited <= Self.maxEntries else { warn("\(root): more than \(Self.maxEntries) entries, the rest not scanned"); return }
            guard !name.hasPrefix(".") else { continue }
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                if excluded.contains(path) || name.lowercased().hasSuffix(".zarr") { continue }
                walk(path, relative: rel, depth: depth + 1, into: &found, visited: &visited, warn: warn)
            case S_IFREG:
                if Self.isCandidateName(name) { found.append(Found(path: path, relative: rel, observation: FileObservation(stat: st))) }
            default:
                continue  // symbolic links, sockets, devices
            }
        }
    }
}
