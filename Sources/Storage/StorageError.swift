/// A storage failure, naming the object (a path, an `s3://` URL) and what went wrong.
/// The wording is the one users have always seen for storage errors
/// ("storage error at '…': …", "invalid request: …"), whichever layer reports it.
public enum StorageError: Error, CustomStringConvertible, Equatable {
    /// I/O failed, a server refused or answered wrongly, a file is not a regular file...
    case failed(key: String, reason: String)
    /// A key or location the store cannot take (see `StoreKey.validate`).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case let .failed(key, reason): return "storage error at '\(key)': \(reason)"
        case let .invalidRequest(reason): return "invalid request: \(reason)"
        }
    }
}

/// An object larger than its reader allows (see `Store.get(_:limit:)`).
public struct ObjectTooLarge: Error, CustomStringConvertible {
    public var key: String
    /// The object's size when the store knows it without reading.
    public var size: Int?
    public var limit: Int

    public init(key: String, size: Int?, limit: Int) {
        self.key = key
        self.size = size
        self.limit = limit
    }

    public var description: String {
        "\(size.map { "\($0) bytes" } ?? "more bytes"), over the \(limit) allowed"
    }
}
