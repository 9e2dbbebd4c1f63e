/// Every failure ZarrCore reports. Each case names the store key (or path) at fault so
/// the CLI can print one clear line; nothing here is fatal to the process.
public enum ZarrError: Error, CustomStringConvertible, Equatable {
    /// Metadata that is not valid JSON or violates the Zarr spec.
    case invalidMetadata(key: String, reason: String)
    /// A codec, data type or chunk key encoding this build does not implement.
    case unsupported(key: String, what: String)
    /// A stored chunk or shard whose bytes cannot be decoded.
    case corruptChunk(key: String, reason: String)
    /// No array or group where one was expected.
    case nodeNotFound(path: String)
    /// A request outside the array (region, chunk coordinates, shapes that disagree).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case let .invalidMetadata(key, reason): return "invalid metadata in '\(key)': \(reason)"
        case let .unsupported(key, what): return "unsupported in '\(key)': \(what)"
        case let .corruptChunk(key, reason): return "corrupt chunk '\(key)': \(reason)"
        case let .nodeNotFound(path): return "no Zarr array or group at '\(path)'"
        case let .invalidRequest(reason): return "invalid request: \(reason)"
        }
    }

    /// The same error re-attributed to `key`; codecs fail without knowing which chunk
    /// they were decoding, and the array layer fills the key in.
    public func at(key: String) -> ZarrError {
        switch self {
        case let .corruptChunk(_, reason): return .corruptChunk(key: key, reason: reason)
        case let .unsupported(_, what): return .unsupported(key: key, what: what)
        case let .invalidMetadata(_, reason): return .invalidMetadata(key: key, reason: reason)
        default: return self
        }
    }
}

/// A codec failing on bytes it was handed; the caller knows the key.
func corrupt(_ reason: String) -> ZarrError { .corruptChunk(key: "", reason: reason) }
