/// The store a command-line location names: `s3://bucket/prefix` (configured from the
/// AWS environment) or a local folder, written with `durability` (`--no-fsync` →
/// `.unsynced`; an S3 object is durable once stored, whatever this says).
public func openStore(_ location: String, durability: FileStore.Durability = .synced) throws -> any Store {
    if location.hasPrefix("s3://") { return try S3Store(url: location) }
    guard !location.contains("://") else {
        throw StorageError.invalidRequest("'\(location)': only local paths and s3:// URLs are supported")
    }
    return FileStore(path: location, durability: durability)
}
