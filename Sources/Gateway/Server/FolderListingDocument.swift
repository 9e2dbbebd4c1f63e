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

    /// Tessera's bookkeeping (`StoreKey.isBookkeeping`) is left out, as the gateway never serves it.
    init(_ listing: FolderListing) {
        folders = listing.folders.filter { !StoreKey.isBookkeeping($0.utf8) }
        objects = listing.objects.filter { !StoreKey.isBookkeeping($0.key.utf8) }.map { Object(key: $0.key, size: $0.size) }
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
