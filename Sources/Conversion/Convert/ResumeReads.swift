import Foundation
import Storage
import ZarrCore

/// On `--resume`: which source blocks must be read again — those that touch a missing
/// object of the level they are read for (level 0, or a stored level with
/// `--use-existing-levels`). Every other block is skipped (`LevelWriter.skip`), so a
/// resume reads from the source only the regions whose outputs are missing. A missing
/// object of a later level whose pixels were (partly) skipped is rebuilt afterwards from
/// the stored level below it (`ResumeRebuild`), never from the source: the pyramid's top
/// object depends on every source pixel, so "read what any missing object needs" would
/// read the whole source after almost any kill.
enum ResumeReads {
    /// `blocks`: (level, region) as fed to the writers. `existing[i]`: keys of level i's
    /// objects that are kept. Returns, per block, whether it must be read.
    static func needed(blocks: [(level: Int, region: Region)], plan: ImagePlan, levelPaths: [String],
                       existing: [Set<String>]) -> [Bool] {
        blocks.map { block in
            let m = plan.arrays[block.level]
            guard let region = block.region.intersection(Region(shape: m.shape)), !region.isEmpty else { return false }
            let objects = region.gridBox(cellShape: m.chunkShape)
            return (0..<objects.count).contains { i in
                !existing[block.level].contains(joinKey(levelPaths[block.level], m.chunkKeyEncoding.key(objects[i])))
            }
        }
    }

    /// `TESSERA_TRACE_READS=1`: every source read is named on stderr (tests count them).
    static let tracing = ProcessInfo.processInfo.environment["TESSERA_TRACE_READS"] == "1"

    static func trace(level: Int, region: Region) {
        guard tracing else { return }
        let line = "tessera-trace: read level \(level) origin \(region.origin.map(String.init).joined(separator: ",")) "
            + "shape \(region.shape.map(String.init).joined(separator: ","))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Level-0 histograms (omero windows) kept per source block inside the output while it is
/// converted — hidden `.tessera-histogram-N.bin` beside the image's metadata, sparse like
/// a split image's region markers but binary (`HistogramRecord`: thousands of bins parse
/// in microseconds) — so a `--resume` that reads only some blocks still computes its
/// windows from every pixel and writes the same `.zattrs`. A
/// block's counts are stored before its pixels reach the writers, so a block whose outputs
/// all exist always has them. They are removed once the image's metadata is written.
final class BlockHistograms: Sendable {
    let store: any Store
    let path: String
    let total: ChannelHistograms
    private let make: @Sendable () -> ChannelHistograms?

    init(store: any Store, path: String, total: ChannelHistograms, make: @escaping @Sendable () -> ChannelHistograms?) {
        (self.store, self.path, self.total, self.make) = (store, path, total, make)
    }

    func key(_ block: Int) -> String { Self.key(block, path: path) }

    static let namePrefix = StoreKey.bookkeepingPrefix + "-histogram-"

    static func key(_ block: Int, path: String) -> String { joinKey(path, namePrefix + "\(block).bin") }

    /// Whether a file name is one of these (`--overwrite` may delete them in an output it marked).
    static func isKeyName(_ name: String) -> Bool {
        guard name.hasPrefix(namePrefix), name.hasSuffix(".bin") else { return false }
        let number = name.dropFirst(namePrefix.count).dropLast(".bin".count)
        return !number.isEmpty && number.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Counts a block that was read, keeping its counts in the output first.
    func count(_ block: Int, _ pixels: NDBuffer, at region: Region) throws {
        guard let one = make() else { return total.add(pixels, at: region) }
        one.add(pixels, at: region)
        let counts = one.snapshot, extremes = one.extremesSnapshot
        try store.set(key(block), HistogramRecord(block: block, region: region, counts: counts, extremes: extremes).bytes)
        total.merge(counts, extremes: extremes)
    }

    /// Adds the stored counts of a block that is not read; false if they are not there
    /// (or are not this block's), and then the block must be read after all.
    func restore(_ block: Int, region: Region) throws -> Bool {
        let key = key(block)
        guard let bytes = try store.get(key, limit: SplitMarkers.maxBytes),
              let record = HistogramRecord(bytes, bins: total.binCount),
              record.block == block, record.region == region,
              (record.extremes == nil) == total.isExact else { return false }
        total.merge(record.counts, extremes: record.extremes)
        return true
    }

    /// The image is complete: its per-block counts are no longer needed.
    /// Block 0's goes last: while it is there, others may be (`removeLeftovers`).
    func removeAll(blocks: Int) throws {
        for b in (0..<blocks).reversed() { try store.delete(key(b)) }
    }

    /// On a resume of a complete image: the counts a kill between its metadata and
    /// `removeAll` left (it removes block 0's last, so one look tells).
    static func removeLeftovers(store: any Store, path: String, blocks: Int) throws {
        guard try store.exists(key(0, path: path)) else { return }
        for b in (0..<blocks).reversed() { try store.delete(key(b, path: path)) }
    }
}

/// One block's counts as stored: "TSH1", then little-endian UInt64s — block, rank, origin,
/// shape, channels, and per channel the number of non-zero bins followed by (bin, count)
/// pairs; for a keyed histogram (`ChannelHistograms(statisticsOf:)`) then "EXTR" and per
/// channel its NaN count, minimum and maximum (Double bits). Anything that does not parse
/// whole is treated as absent (the block is re-read).
struct HistogramRecord {
    var block: Int
    var region: Region
    var counts: [[Int]]
    var extremes: [ChannelExtremes]?

    static let extremesMark = UInt64(0x5254_5845)  // "EXTR"

    init(block: Int, region: Region, counts: [[Int]], extremes: [ChannelExtremes]? = nil) {
        (self.block, self.region, self.counts, self.extremes) = (block, region, counts, extremes)
    }

    var bytes: [UInt8] {
        var words: [UInt64] = [UInt64(block), UInt64(region.origin.count)]
        words += region.origin.map { UInt64($0) } + region.shape.map { UInt64($0) } + [UInt64(counts.count)]
        for h in counts {
            let pairs = h.enumerated().filter { $0.element > 0 }
            words.append(UInt64(pairs.count))
            for (bin, n) in pairs { words += [UInt64(bin), UInt64(n)] }
        }
        if let extremes {
            words.append(Self.extremesMark)
            for e in extremes { words += [UInt64(e.nanCount), e.min.bitPattern, e.max.bitPattern] }
        }
        var out = Array("TSH1".utf8)
        out.reserveCapacity(4 + 8 * words.count)
        for w in words { withUnsafeBytes(of: w.littleEndian) { out += $0 } }
        return out
    }

    init?(_ bytes: [UInt8], bins: Int) {
        guard bytes.count >= 4, bytes.count % 8 == 4, Array(bytes[0..<4]) == Array("TSH1".utf8) else { return nil }
        let raw: [UInt64] = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count - 4) / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 4 + 8 * $0, as: UInt64.self)) }
        }
        let words = raw.map { Int(truncatingIfNeeded: $0) }
        var at = 0
        func next() -> Int? {
            guard at < words.count, words[at] >= 0 else { return nil }
            at += 1
            return words[at - 1]
        }
        guard let block = next(), let rank = next(), rank <= 32, at + 2 * rank <= words.count else { return nil }
        let origin = Array(words[at..<(at + rank)]), shape = Array(words[(at + rank)..<(at + 2 * rank)])
        at += 2 * rank
        guard let channels = next(), channels <= 1 << 16 else { return nil }
        var counts = [[Int]]()
        for _ in 0..<channels {
            guard let pairs = next(), pairs <= bins, at + 2 * pairs <= words.count else { return nil }
            var h = [Int](repeating: 0, count: bins)
            for p in 0..<pairs {
                let (bin, n) = (words[at + 2 * p], words[at + 2 * p + 1])
                guard h.indices.contains(bin), n >= 0 else { return nil }
                h[bin] = n
            }
            at += 2 * pairs
            counts.append(h)
        }
        var extremes: [ChannelExtremes]?
        if at < words.count {
            guard raw[at] == Self.extremesMark, at + 1 + 3 * channels == words.count else { return nil }
            let found = (0..<channels).map { k in
                let base = at + 1 + 3 * k
                return ChannelExtremes(nanCount: words[base], min: Double(bitPattern: raw[base + 1]), max: Double(bitPattern: raw[base + 2]))
            }
            guard found.allSatisfy({ $0.nanCount >= 0 }) else { return nil }
            extremes = found
            at = words.count
        }
        guard at == words.count else { return nil }
        self.init(block: block, region: Region(origin: origin, shape: shape), counts: counts, extremes: extremes)
    }
}
