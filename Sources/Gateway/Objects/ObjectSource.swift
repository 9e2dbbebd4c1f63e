import Hummingbird
import Storage

/// A root's objects as the gateway reads them: read-only, with validators, and with
/// bodies that stream instead of being buffered whole. Storage's `Store` answers "what
/// bytes are under this key, and which version are they" (`ObjectInfo`); the sources are
/// thin adapters over FileStore and S3Store that answer the HTTP questions on top (what
/// is the entity tag, how do the bytes reach the socket).
public protocol ObjectSource: Sendable {
    /// The object under `key`, opened, or nil if there is none (folders count as none).
    func open(_ key: String) async throws -> (any OpenedObject)?
    /// One folder's objects and subfolder names ("" is the root); nil if there is no such folder.
    func listFolder(_ key: String) async throws -> FolderListing?
    /// Where the root lives, for messages.
    var location: String { get }
}

public protocol OpenedObject: Sendable {
    var size: Int { get }
    var validators: Validators { get }
    /// The bytes in `range`, as a body the server writes out piece by piece.
    func body(_ range: Range<Int>) async throws -> ResponseBody
}

extension ObjectSource {
    /// A small object read whole (metadata documents), or nil if there is none.
    func readAll(_ key: String) async throws -> [UInt8]? {
        try await open(key)?.readAll()
    }
}

extension OpenedObject {
    /// The whole object in memory; only for small documents the gateway itself rewrites.
    func readAll() async throws -> [UInt8] {
        var collected = [UInt8]()
        collected.reserveCapacity(size)
        let writer: any ResponseBodyWriter = CollectingWriter { collected.append(contentsOf: $0.readableBytesView) }
        try await body(0..<size).write(writer)
        return collected
    }
}

/// Gathers a body into memory; only for small documents the gateway itself rewrites.
private struct CollectingWriter: ResponseBodyWriter {
    let append: (ByteBuffer) -> Void
    mutating func write(_ buffer: ByteBuffer) async throws { append(buffer) }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
