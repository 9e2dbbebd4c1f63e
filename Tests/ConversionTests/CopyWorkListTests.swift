import Storage
import Testing
@testable import Conversion
@testable import ZarrCore

@Suite struct CopyWorkListTests {
    func cells(_ work: CopyWorkList) -> [[Int]] { (0..<work.count).compactMap { work.cell($0) } }

    /// Destination cells smaller than the source's inner chunks: visited in groups of the
    /// cells one inner chunk feeds, every cell exactly once, edge groups cut to the grid.
    @Test func groupsTheCellsOfOneSourceChunkAndVisitsEachOnce() throws {
        let sharded = CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [4, 4], codecs: CodecPipeline()))
        let source = ZarrArray(store: MemoryStore(), path: "", metadata: ArrayMetadata(format: .v3, shape: [10, 13], chunkShape: [8, 8],
                                                                                      dataType: .uint16, codecs: sharded))
        let destination = ArrayMetadata(format: .v2, shape: [10, 13], chunkShape: [2, 1], dataType: .uint16)
        let work = try CopyWorkList(source: source, destination: destination)
        #expect(work.groupSize == 8)  // 2 x 4 cells per 4x4 inner chunk
        #expect(work.sharedSourceBytes == 4 * 4 * 2)
        let visited = cells(work)
        #expect(visited.count == 5 * 13)
        #expect(Set(visited).count == visited.count)
        // Each group's cells lie in one inner chunk.
        for g in 0..<work.groupCount {
            let chunks = Set((g * work.groupSize..<min((g + 1) * work.groupSize, work.count)).compactMap { work.cell($0) }
                .map { [$0[0] * 2 / 4, $0[1] / 4] })
            #expect(chunks.count <= 1)
        }
    }

    @Test func destinationCellsAsLargeAsSourceChunksAreNotGrouped() throws {
        let source = ZarrArray(store: MemoryStore(), path: "", metadata: ArrayMetadata(format: .v2, shape: [10, 13], chunkShape: [4, 4], dataType: .uint8))
        let work = try CopyWorkList(source: source, destination: ArrayMetadata(format: .v2, shape: [10, 13], chunkShape: [4, 8], dataType: .uint8))
        #expect(work.groupSize == 1)
        #expect(work.sharedSourceBytes == 0)
        #expect(cells(work) == (0..<3).flatMap { y in (0..<2).map { x in [y, x] } })
    }
}
