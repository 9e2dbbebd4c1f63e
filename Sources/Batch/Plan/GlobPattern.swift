import Foundation
import Storage

/// A shell pattern over paths: `*`, `?` and `[...]` within one path segment (fnmatch(3),
/// so `*` never matches a leading dot: hidden files stay hidden), `**` for any number of
/// folders. Expanded by walking only the folders the pattern can reach.
public struct GlobPattern: Sendable {
    public let pattern: String
    /// The folder before the first segment with a wildcard ("." for a relative pattern
    /// that starts with one), and the segments from there on.
    let base: String
    let segments: [String]

    public init(_ pattern: String) {
        self.pattern = pattern
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let literal = parts.prefix { !Self.isWildcard($0) }
        let root = pattern.hasPrefix("/") ? "/" : ""
        base = literal.isEmpty ? (root.isEmpty ? "." : root) : root + literal.joined(separator: "/")
        segments = Array(parts.dropFirst(literal.count))
    }

    /// Whether an argument is a pattern rather than a path (the caller checks first that
    /// no file of that name exists).
    public static func isWildcard(_ text: String) -> Bool { text.contains { "*?[".contains($0) } }

    /// Whether `path` (relative to `base`, `/`-separated) matches the segments.
    public func matches(relativePath path: String) -> Bool {
        Self.match(segments[...], path.split(separator: "/").map(String.init)[...])
    }

    static func match(_ segs: ArraySlice<String>, _ parts: ArraySlice<String>) -> Bool {
        guard let seg = segs.first else { return parts.isEmpty }
        if seg == "**" {
            // Zero folders, or one more (never a hidden one) and try again.
            if match(segs.dropFirst(), parts) { return true }
            guard let first = parts.first, parts.count > 1, !first.hasPrefix(".") else { return false }
            return match(segs, parts.dropFirst())
        }
        guard let part = parts.first, segmentMatches(seg, part) else { return false }
        return match(segs.dropFirst(), parts.dropFirst())
    }

    static func segmentMatches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, FNM_PERIOD) == 0
    }

    /// The files (regular, or links to regular files) the pattern matches, `base`-joined
    /// paths, sorted; folders are walked without following links.
    public func expand() -> [String] {
        var out = Set<String>()
        let fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        walk(fd, folder: base, segments[...], into: &out)
        return out.sorted()
    }

    private func walk(_ fd: Int32, folder: String, _ segs: ArraySlice<String>, into out: inout Set<String>) {
        guard let seg = segs.first else { close(fd); return }
        let last = segs.count == 1
        let path = { (name: String) in folder == "." ? name : (folder as NSString).appendingPathComponent(name) }
        var subfolders = [(String, ArraySlice<String>)]()
        readFolder(fd) { parent, name, entry in
            if seg == "**" {
                // `**` last: every file below; otherwise zero folders here, or descend.
                if last, !name.hasPrefix("."), InputWalk.isFile(parent, name, entry) { out.insert(path(name)) }
                if !last, Self.segmentMatches(segs[segs.index(after: segs.startIndex)], name) {
                    if segs.count == 2, InputWalk.isFile(parent, name, entry) { out.insert(path(name)) }
                    if segs.count > 2, entry == .folder { subfolders.append((name, segs.dropFirst(2))) }
                }
                if entry == .folder, !name.hasPrefix(".") { subfolders.append((name, segs)) }
            } else if Self.segmentMatches(seg, name) {
                if last, InputWalk.isFile(parent, name, entry) { out.insert(path(name)) }
                if !last, entry == .folder { subfolders.append((name, segs.dropFirst())) }
            }
        }
        for (name, rest) in subfolders {
            let sub = open(path(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if sub >= 0 { walk(sub, folder: path(name), rest, into: &out) }
        }
    }
}
