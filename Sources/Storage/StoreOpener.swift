/// The store a command-line location names: `s3://bucket/prefix` (configured from the
/// AWS environment) or a local folder.
public func openStore(_ location: String) throws -> any Store {
    if location.hasPrefix("s3://") { return try S3Store(url: location) }
    guard !location.contains("://") else {
        throw StorageError.invalidRequest("'\(location)': only local paths and s3:// URLs are supported")
    }
    return FileStore(path: location)
}
