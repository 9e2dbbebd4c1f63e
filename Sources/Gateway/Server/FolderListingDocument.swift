import Storage
import Foundation

/// The JSON a folder listing (`--listing`) answers with, as Specs/openapi.yaml describes
/// it: `{"folders":[name,...],"objects":[{"key":name,"size":bytes},...]}`, compact, keys
/// sorted, slashes unescaped.
struct FolderListingDocument: Encodable {
    struct Object: Encodable {
        var key: String
        var size: Int
    }

    var folders: [String]
    var objects: [Object]

    init(_ listing: FolderListing) {
        folders = listing.folders
        objects = listing.objects.map { Object(key: $0.key, size: $0.size) }
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
