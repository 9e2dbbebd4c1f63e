import Storage
import Synchronization

/// A store that hands its calls to `inner` and records the reads, writes and listings asked
/// of it: how tests show that a render read nothing, that a region's inner chunks came in
/// one ranged read, that a walk listed only group folders, that a listing stopped after its
/// first page, or which objects a step wrote — one recorder instead of a forwarding store
/// per test suite.
///
/// The required calls go to `inner` and are recorded. The optional ones run on Store's
/// defaults, which are built on those recorded calls (so `get(_:limit:)` shows up as the
/// ranged read it makes) — except the listings, which `inner` answers, since its own paging
/// and folder listing are what the tests count.
public final class RecordingStore: Store {
    public enum Call: Sendable, Equatable {
        case get(String)
        case getRange(String, ByteRange)
        case listPage(prefix: String)
        case listFolder(String)
        case write(String)
        case delete(String)
    }

    public let inner: any Store
    private let log = Mutex<[Call]>([])

    public init(_ inner: any Store = MemoryStore()) { self.inner = inner }

    /// Everything recorded, in order.
    public var calls: [Call] { log.withLock { $0 } }
    /// Forgets what was recorded (a test's setup writes and reads too).
    public func reset() { log.withLock { $0 = [] } }
    /// Whole-object and ranged reads together.
    public var reads: Int {
        calls.filter { switch $0 { case .get, .getRange: true; default: false } }.count
    }
    public var wholeReads: Int { calls.filter { if case .get = $0 { true } else { false } }.count }
    public var rangedReads: [ByteRange] { calls.compactMap { if case let .getRange(_, r) = $0 { r } else { nil } } }
    public var listedFolders: [String] { calls.compactMap { if case let .listFolder(f) = $0 { f } else { nil } } }
    public var listedPages: Int { calls.filter { if case .listPage = $0 { true } else { false } }.count }

    /// The keys written or deleted since the last take (or reset), and a fresh log.
    public func takeWrittenKeys() -> Set<String> {
        let taken = log.withLock { log in defer { log = [] }; return log }
        return Set(taken.compactMap { switch $0 { case let .write(k), let .delete(k): k; default: nil } })
    }

    private func record(_ call: Call) { log.withLock { $0.append(call) } }

    public func get(_ key: String) throws -> [UInt8]? {
        record(.get(key))
        return try inner.get(key)
    }

    public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
        record(.getRange(key, range))
        return try inner.get(key, range: range)
    }

    public func size(_ key: String) throws -> Int? { try inner.size(key) }
    public func set(_ key: String, _ bytes: [UInt8]) throws {
        record(.write(key))
        try inner.set(key, bytes)
    }

    public func publish(_ key: String, _ bytes: [UInt8]) throws {
        record(.write(key))
        try inner.publish(key, bytes)
    }

    public func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        record(.write(key))
        return try inner.createIfAbsent(key, bytes)
    }

    public func delete(_ key: String) throws {
        record(.delete(key))
        try inner.delete(key)
    }
    public func list(prefix: String) throws -> [StoreEntry] { try inner.list(prefix: prefix) }
    public func describe(_ key: String) -> String { inner.describe(key) }

    public func listPages(prefix: String, _ page: ([StoreEntry]) throws -> Void) throws {
        try inner.listPages(prefix: prefix) { entries in
            record(.listPage(prefix: prefix))
            try page(entries)
        }
    }

    public func listFolder(_ folder: String) throws -> FolderListing? {
        record(.listFolder(folder))
        return try inner.listFolder(folder)
    }
}
