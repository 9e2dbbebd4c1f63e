import Hummingbird
import NIOCore
import NIOPosix
import Storage
import ZarrCore

/// A root in an S3 bucket. libcurl calls block, so they run on NIO's blocking pool; a
/// body is fetched as ranged GETs of at most `pieceSize`, each written out before the
/// next is asked for, so a 10 GB shard costs one piece of memory.
public final class S3ObjectSource: ObjectSource {
    let store: S3Store
    static let pieceSize = 8 << 20

    public init(url: String) throws {
        store = try S3Store(url: url)
    }

    public var location: String { store.describe("") }

    public func open(_ key: String) async throws -> (any OpenedObject)? {
        guard !key.isEmpty else { return nil }
        let store = self.store
        guard let head = try await NIOThreadPool.singleton.runIfActive({ try store.head(key) }) else { return nil }
        return S3Object(store: store, key: key, head: head)
    }

    public func listFolder(_ key: String) async throws -> FolderListing? {
        let store = self.store
        return try await NIOThreadPool.singleton.runIfActive { try store.listFolder(key) }?.sorted()
    }
}

struct S3Object: OpenedObject {
    let store: S3Store
    let key: String
    let size: Int
    let validators: Validators

    init(store: S3Store, key: String, head: ObjectInfo) {
        self.store = store
        self.key = key
        size = head.size
        // S3's own tag is strong for a given object version; a store that sends none
        // gets one derived from size and date.
        let modified = head.lastModifiedSeconds
        let etag = head.etag.map { $0.hasPrefix("\"") ? $0 : "\"\($0)\"" }
            ?? "\"\(String(head.size, radix: 16))-\(String(modified ?? 0, radix: 16))\""
        validators = Validators(etag: etag, lastModified: modified)
    }

    func body(_ range: Range<Int>) async throws -> ResponseBody {
        let store = self.store, key = self.key
        @Sendable func fetch(_ piece: Range<Int>) async throws -> ByteBuffer {
            let bytes = try await NIOThreadPool.singleton.runIfActive {
                try store.get(key, range: .slice(offset: piece.lowerBound, length: piece.count))
            }
            guard let bytes, bytes.count == piece.count else {
                throw StorageError.failed(key: store.describe(key), reason: "object changed or vanished while being served")
            }
            return ByteBuffer(bytes: bytes)
        }
        if range.count <= Self.pieceSizeInline {
            return ResponseBody(byteBuffer: try await fetch(range))
        }
        return ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            while offset < range.upperBound {
                let piece = offset..<min(range.upperBound, offset + S3ObjectSource.pieceSize)
                try await writer.write(try await fetch(piece))
                offset = piece.upperBound
            }
            try await writer.finish(nil)
        }
    }

    /// Bodies up to this size are fetched before the response starts, so a failing GET
    /// becomes a clean 502 instead of a truncated 200.
    static let pieceSizeInline = 1 << 20
}
