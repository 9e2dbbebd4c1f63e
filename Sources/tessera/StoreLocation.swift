import Foundation
import ZarrCore

/// Where a hierarchy lives: a store plus the key prefix inside it. Only local folders
/// for now; `s3://` arrives with the object-store module.
struct StoreLocation {
    var store: any Store
    var path: String

    init(_ argument: String) throws {
        if argument.contains("://") {
            throw ValidationErrorMessage("'\(argument)': only local paths are supported in this build")
        }
        store = FileStore(path: argument)
        path = ""
    }
}

struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
