import Storage
import ZarrCore

/// The versions of the metadata documents that name an image's pixels: every group
/// document between the image's path and its levels, and the levels' own. Tessera's
/// writers rewrite metadata last, so a re-conversion changes these (a chunk rewritten in
/// place alone does not). The gateway's tags and cache keys, and the pictures stored at
/// conversion (`StoredPictures`), are made from them.
public enum SourceVersions {
    public static func documents(image: String, levelKeys: [String]) -> [String] {
        var documents = [String]()
        var groups = [image]
        for key in levelKeys {
            var parent = key
            while let slash = parent.lastIndex(of: "/"), parent.count > image.count {
                parent = String(parent[..<slash])
                if parent.count >= image.count, !groups.contains(parent) { groups.append(parent) }
            }
        }
        for group in groups { documents += ["zarr.json", ".zgroup", ".zattrs"].map { joinKey(group, $0) } }
        for key in levelKeys { documents += ["zarr.json", ".zarray", ".zattrs"].map { joinKey(key, $0) } }
        return documents
    }

    /// One line per document that exists: key, size, etag, and for files device, inode
    /// and modification time; and the newest modification time (seconds).
    public static func lines(store: any Store, documents: [String]) throws -> (text: String, newest: Int?) {
        var text = ""
        var newest: Int?
        for document in documents {
            guard let info = try store.head(document) else { continue }
            text += "\(document) \(info.size) \(info.etag ?? "-")"
            if let f = info.file {
                text += " \(f.device):\(f.inode):\(f.modifiedSeconds).\(f.modifiedNanoseconds)"
                newest = max(newest ?? f.modifiedSeconds, f.modifiedSeconds)
            }
            text += "\n"
        }
        return (text, newest)
    }

    /// The versions of an opened image's documents, named relative to the image's path
    /// (the same whichever root or folder the store was opened at).
    public static func of(_ image: RenderImage, store: any Store, path: String) throws -> String {
        let levelKeys = image.levels.compactMap { ($0.reader as? ZarrLevelReader)?.key }
        let prefix = path.isEmpty ? "" : path + "/"
        let relative = documents(image: path, levelKeys: levelKeys).map { String($0.dropFirst($0.hasPrefix(prefix) ? prefix.count : 0)) }
        var text = ""
        for (document, name) in zip(documents(image: path, levelKeys: levelKeys), relative) {
            let line = try lines(store: store, documents: [document]).text
            if !line.isEmpty { text += name + line.dropFirst(document.count) }
        }
        return text
    }
}
