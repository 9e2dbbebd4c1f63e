@testable import Conversion
import Storage
import Foundation
import Testing
import TestSupport
import ZarrCore

@Suite struct OutputMarkTests {
    /// A mark is a few hundred bytes; a huge file of that name (hostile, or a mistake) must
    /// not be read whole — a 300 MB one took 1 GB of memory to parse.
    @Test func aHugeMarkIsRefusedUnread() throws {
        let store = RecordingStore()
        let pad = String(repeating: "x", count: 2 << 20)
        try store.inner.set(OutputMark.key, Array(#"{"command":"convert","settings":{},"pad":"\#(pad)"}"#.utf8))
        #expect(throws: UsageError.self) { _ = try OutputMark.read(from: store) }
        #expect(store.wholeReads == 0)
    }
}
