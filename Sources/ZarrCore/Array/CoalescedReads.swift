import Synchronization

/// Byte ranges of one object grouped into fewer ranged reads: the inner chunks a region
/// needs from a shard usually lie next to each other in the file (a row of the region
/// inside one shard), and each read is a file open and a pread, or on S3 one HTTP request.
///
/// Ranges are taken in file order; one joins the read before it when the bytes between
/// them (the gap, read and thrown away) are at most `maxGap` and the read stays within
/// `maxSpan` bytes. A range longer than `maxSpan` is a read of its own.
struct CoalescedReads {
    /// Reads are at most this long (unless one range is longer): what one read holds in
    /// memory beside the decoded chunks.
    static let maxSpan = 16 << 20
    /// Bytes read and dropped to save a read: about what a local pread or an S3 request
    /// costs in time against reading that much more (an inner chunk is often ~100 KiB).
    static let maxGap = 256 << 10

    /// The reads, in file order.
    let reads: [Range<Int>]
    /// For each input range, the index in `reads` of the read holding it.
    let readOf: [Int]

    init(_ ranges: [Range<Int>], maxGap: Int = CoalescedReads.maxGap, maxSpan: Int = CoalescedReads.maxSpan) {
        var reads: [Range<Int>] = []
        var readOf = [Int](repeating: 0, count: ranges.count)
        for i in ranges.indices.sorted(by: { ranges[$0].lowerBound < ranges[$1].lowerBound }) {
            let r = ranges[i]
            if let last = reads.last, r.lowerBound - last.upperBound <= maxGap,
               max(last.upperBound, r.upperBound) - last.lowerBound <= maxSpan {
                reads[reads.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                reads.append(r)
            }
            readOf[i] = reads.count - 1
        }
        (self.reads, self.readOf) = (reads, readOf)
    }
}

/// One coalesced read's bytes, fetched by the first inner chunk that needs them (chunks
/// a decoded-chunk cache already holds never cause a read), then shared.
final class SharedRead: Sendable {
    private let bytes = Mutex<[UInt8]?>(nil)

    func get(_ fetch: () throws -> [UInt8]) throws -> [UInt8] {
        try bytes.withLock { held in
            if let held { return held }
            let fetched = try fetch()
            held = fetched
            return fetched
        }
    }
}
