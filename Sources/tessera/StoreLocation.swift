import Foundation
import Storage
import ZarrCore

/// Where a hierarchy lives, as a command-line argument names it: a local folder, or
/// `s3://bucket/prefix` (endpoint, region and credentials from the AWS environment).
/// The hierarchy is the store's root: the prefix is part of the store.
struct StoreLocation {
    var store: any Store

    init(_ argument: String, durability: FileStore.Durability = .synced) throws {
        store = try openStore(argument, durability: durability)
    }
}
