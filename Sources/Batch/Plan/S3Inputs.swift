import Foundation
import ImageSources
import Storage

/// The images under `s3://bucket/prefix`: the object itself when the URL names an image
/// object, otherwise every key below the prefix (as a folder) that looks like an input,
/// hidden segments skipped — listed a page at a time, so only the kept names are held.
enum S3Inputs {
    static func list(_ url: String, _ found: (String) -> Void) throws {
        let (bucket, key) = try split(url)
        let store = try S3Store(url: "s3://\(bucket)")
        if !key.isEmpty, SourceOpener.looksLikeInput(lastSegment(key)), try store.size(key) != nil {
            found("s3://\(bucket)/\(key)")
            return
        }
        var count = 0
        try store.listPages(prefix: key.isEmpty ? "" : key + "/") { page in
            for entry in page.sorted(by: { $0.key < $1.key }) where isImageKey(entry.key) {
                found("s3://\(bucket)/\(entry.key)")
                count += 1
            }
        }
        guard count > 0 else { throw PlanError.noImages(url) }
    }

    /// `s3://bucket/a/b/` → (`bucket`, `a/b`).
    static func split(_ url: String) throws -> (bucket: String, key: String) {
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw PlanError.missingInput(url) }
        let key = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        return (bucket, key)
    }

    static func isImageKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/")
        guard let name = parts.last, !parts.contains(where: { $0.hasPrefix(".") }) else { return false }
        return SourceOpener.looksLikeInput(String(name))
    }

    static func lastSegment(_ key: String) -> String { key.split(separator: "/").last.map(String.init) ?? key }
}
