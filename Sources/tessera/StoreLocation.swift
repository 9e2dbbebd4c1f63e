import Foundation
import Storage
import ZarrCore

/// Where a hierarchy lives: a store plus the key prefix inside it — a local folder, or
/// `s3://bucket/prefix` (endpoint, region and credentials from the AWS environment).
struct StoreLocation {
    var store: any Store
    var path: String

    init(_ argument: String) throws {
        store = try openStore(argument)
        path = ""
    }
}

struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
