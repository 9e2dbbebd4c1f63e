@testable import Conversion
import Storage
import Foundation
import Testing
import ZarrCore

@Suite struct OutputMarkTests {
    /// A mark is a few hundred bytes; a huge file of that name (hostile, or a mistake) must
    /// not be read whole — a 300 MB one took 1 GB of memory to parse.
    @Test func aHugeMarkIsRefusedUnread() throws {
        let store = CountingReadsStore()
        let pad = String(repeating: "x", count: 2 << 20)
        try store.inner.set(OutputMark.key, Array(#"{"command":"convert","settings":{},"pad":"\#(pad)"}"#.utf8))
        #expect(throws: UsageError.self) { _ = try OutputMark.read(from: store) }
        #expect(store.wholeReads == 0)
    }
}

final class CountingReadsStore: Store, @unchecked Sendable {
    let inner = MemoryStore()
    var wholeReads = 0
    func get(_ key: String) throws -> [UInt8]? { wholeReads += 1; return try inner.get(key) }
    func get(_ key: String, range: ByteRange) throws -> [UInt8]? { try inner.get(key, range: range) }
    func size(_ key: String) throws -> Int? { try inner.size(key) }
    func set(_ key: String, _ bytes: [UInt8]) throws { try inner.set(key, bytes) }
    func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool { try inner.createIfAbsent(key, bytes) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func list(prefix: String) throws -> [StoreEntry] { try inner.list(prefix: prefix) }
    func describe(_ key: String) -> String { inner.describe(key) }
}
