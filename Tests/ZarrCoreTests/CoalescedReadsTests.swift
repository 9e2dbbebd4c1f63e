import Storage
import Synchronization
import Testing
import TestSupport
@testable import ZarrCore

@Suite struct CoalescedReadsTests {
    @Test func nearbyRangesShareAReadInFileOrder() {
        // Given out of order; 20..<30 is 10 bytes after 0..<10, 100..<110 is 70 after 30.
        let plan = CoalescedReads([20..<30, 0..<10, 100..<110, 30..<40], maxGap: 16, maxSpan: 1000)
        #expect(plan.reads == [0..<40, 100..<110])
        #expect(plan.readOf == [0, 0, 1, 0])
    }

    @Test func theSpanBoundsARead() {
        let plan = CoalescedReads([0..<10, 10..<20, 20..<30, 30..<500], maxGap: 16, maxSpan: 25)
        #expect(plan.reads == [0..<20, 20..<30, 30..<500])
        #expect(plan.readOf == [0, 0, 1, 2])
        #expect(CoalescedReads([0..<10, 10..<20], maxGap: 0, maxSpan: 0).reads == [0..<10, 10..<20])
    }

    /// A region over 2×3 inner chunks of one shard (two rows of three, the rows apart by
    /// one inner chunk in the file) is one ranged read besides the index, where it was six.
    @Test func aRegionOverNearbyInnerChunksIsOneRead() throws {
        let store = RecordingStore()
        let inner = CodecPipeline(bytesToBytes: [BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2)])
        let m = ArrayMetadata(format: .v3, shape: [16, 16], chunkShape: [16, 16], dataType: .uint16, fillValue: FillValue(bytes: [0, 0]),
                              codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: [4, 4], codecs: inner)))
        let a = ZarrArray(store: store, path: "a", metadata: m, concurrency: 2)
        let data = NDBuffer(dataType: .uint16, shape: [16, 16], bytes: (0..<256).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 4)] })
        try a.write(Region(shape: [16, 16]), data)
        let region = Region(origin: [1, 1], shape: [6, 10])
        store.reset()
        #expect(try a.read(region) == data.extract(region))
        let ranges = store.rangedReads
        #expect(ranges.count == 2, "index and one read for the six inner chunks, got \(ranges)")
    }
}
