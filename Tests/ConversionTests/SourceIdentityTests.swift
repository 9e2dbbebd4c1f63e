@testable import Conversion
import Testing

/// `SourceIdentity`: the fingerprint `--resume` compares to be sure it reads the same file.
@Suite struct SourceIdentityTests {
    @Test func samplesCoverSmallFilesWholeAndSpreadOverLargeOnes() {
        #expect(SourceIdentity.sampleRanges(size: 0).isEmpty)
        #expect(SourceIdentity.sampleRanges(size: 100_000).map { [$0.offset, $0.length] } == [[0, 100_000]])
        for size in [2 * 65536 + 1, 2 * 65536 + 5000, 300_000, 1 << 40, Int.max] {
            let r = SourceIdentity.sampleRanges(size: size)
            #expect(r.first?.offset == 0 && r.first?.length == 65536)
            #expect(r.last.map { $0.offset + $0.length } == size)
            // In file order, inside the file, never overlapping.
            #expect(zip(r, r.dropFirst()).allSatisfy { $0.offset + $0.length <= $1.offset })
        }
        #expect(SourceIdentity.sampleRanges(size: 1 << 30).count == 18)
    }
}
