@testable import Conversion
import ImageSources
import Testing

/// DM stores pixels uncompressed: a DM file may declare at most its own size in pixel
/// bytes (the reader also checks each image's data lies inside the file).
@Suite struct DeclaredSizeLimitDMTests {
    func dmFile(bytes: Int) -> SourceFile {
        SourceFile(path: "stack.dm4", format: .dm, images: [MemoryImage(axes: ["y", "x"], shape: [100, 100])], fileBytes: bytes)
    }

    @Test func dmIsLimitedToItsFileSize() throws {
        // 100 × 100 uint16 = 20,000 bytes.
        try DeclaredSizeLimit.check(dmFile(bytes: 20_100), maxPixels: nil)
        #expect(throws: SourceError.self) { try DeclaredSizeLimit.check(dmFile(bytes: 19_000), maxPixels: nil) }
        #expect(DeclaredSizeLimit.expansion(dmFile(bytes: 1))?.0 == 1)
        try DeclaredSizeLimit.check(dmFile(bytes: 19_000), maxPixels: 10_000)
    }
}
