import Storage
import Foundation
import Testing
@testable import Gateway
import ZarrCore

/// `ConsolidatedMetadata.Limits`: a generation that would walk or read too much gives up.
@Suite final class ConsolidatedMetadataLimitsTests {
    /// The folders `tree` made, removed when the test is done.
    private var folders: [String] = []
    deinit { for folder in folders { try? FileManager.default.removeItem(atPath: folder) } }

    private func tree(groups: Int, childBytes: Int = 20) throws -> String {
        let folder = NSTemporaryDirectory() + "tessera-limits-\(UUID().uuidString)"
        folders.append(folder)
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(#"{"zarr_format":2}"#.utf8).write(to: URL(fileURLWithPath: folder + "/.zgroup"))
        for i in 0..<groups {
            try fm.createDirectory(atPath: folder + "/g\(i)", withIntermediateDirectories: true)
            let padding = String(repeating: " ", count: max(0, childBytes - 18))
            try Data((#"{"zarr_format":2}"# + padding).utf8).write(to: URL(fileURLWithPath: folder + "/g\(i)/.zgroup"))
        }
        return folder
    }

    @Test func aWalkPastItsDocumentBoundGeneratesNothing() async throws {
        let store = FileStore(path: try tree(groups: 50))
        let small = ConsolidatedMetadata.Limits(documents: 40, bytes: 1 << 20, time: .seconds(10))
        #expect(try await ConsolidatedMetadata.v2(store, group: "", limits: small) == nil)
        #expect(try await ConsolidatedMetadata.v2(store, group: "", limits: .defaults) != nil)
    }

    @Test func aHugeChildDocumentIsNeverRead() async throws {
        let store = FileStore(path: try tree(groups: 2, childBytes: 2 << 20))
        #expect(try await ConsolidatedMetadata.v2(store, group: "", limits: .defaults) == nil)
    }
}
