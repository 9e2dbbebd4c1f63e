import Foundation

extension JobManifest {
    /// A new job id: the UTC time and 4 random hex digits (`20261129-002000-a3f9`), so
    /// two plans of one output root keep their reports apart.
    public static func newID(now: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: now) + "-" + String(format: "%04x", UInt16.random(in: .min ... .max))
    }

    /// ISO 8601 in UTC, to the second.
    public static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// job.json's bytes: keys sorted, so two plans of the same inputs differ only where
    /// they must (id, time).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Writes the manifest whole or not at all: a temporary beside `path`, then linked
    /// into place (refused if `path` exists, checked atomically) or, with `force`,
    /// renamed over it.
    public func write(to path: String, force: Bool) throws {
        // The rules `tessera run` checks on reading, checked before writing: a plan never
        // hands the tasks a manifest they would refuse (an S3 key with a `..` segment, say).
        try validate(path)
        let data = try encoded()
        let folder = (path as NSString).deletingLastPathComponent
        let temp = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).tmp-\(getpid())")
        if !force, FileManager.default.fileExists(atPath: path) { throw PlanError.exists(path) }
        guard FileManager.default.createFile(atPath: temp, contents: data) else {
            throw PlanError.cannotWrite(path, "cannot create a file in '\(folder.isEmpty ? "." : folder)'")
        }
        defer { unlink(temp) }
        if force {
            guard rename(temp, path) == 0 else { throw PlanError.cannotWrite(path, String(cString: strerror(errno))) }
        } else if link(temp, path) != 0 {
            throw errno == EEXIST ? PlanError.exists(path) : PlanError.cannotWrite(path, String(cString: strerror(errno)))
        }
    }
}
