import Foundation

/// `path` absolute with symlinks, `.` and `..` resolved (realpath); a path that does not
/// exist (yet) is made absolute and standardized instead. The one way Tessera names a
/// local file when comparing or recording it (overwrite containment, resume records).
func resolvedPath(_ path: String) -> String {
    if let p = realpath(path, nil) { defer { free(p) }; return String(cString: p) }
    return URL(fileURLWithPath: path).standardizedFileURL.path
}
