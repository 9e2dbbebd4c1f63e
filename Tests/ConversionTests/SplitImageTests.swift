@testable import Conversion
import Foundation
import ImageSources
import NGFF
import Storage
import Synchronization
import Testing
import TestSupport
import ZarrCore

/// An image of any pixel type held in memory, read block by block like a tiled file.
final class PatternImage: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    let pixels: NDBuffer

    init(axes: [String], shape: [Int], dataType: DataType, tile: [Int]? = nil, seed: UInt64 = 7) {
        let count = shape.reduce(1, *)
        var state = seed
        var bytes = [UInt8]()
        bytes.reserveCapacity(count * dataType.size)
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Int(truncatingIfNeeded: (state >> 33) % 900)
            let v = noise + (i % 1013) * 37 // a gradient with noise: the windows are not trivial
            switch dataType {
            case .uint8: bytes.append(UInt8(truncatingIfNeeded: v / 40))
            case .uint16: withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { bytes += $0 }
            case .float32: withUnsafeBytes(of: (Float(v) / 7.5 - 100).bitPattern.littleEndian) { bytes += $0 }
            default: fatalError("PatternImage: \(dataType) is not made here")
            }
        }
        // Some all-zero patch, so all-fill objects (not stored) occur at some level.
        pixels = NDBuffer(dataType: dataType, shape: shape, bytes: bytes)
        description = ImageDescription(name: "pattern", axes: axes.map { ImageAxis(name: $0) }, shape: shape, dataType: dataType,
                                       readBlock: tile ?? shape.map { _ in 1 })
    }

    func read(_ region: Region) throws -> NDBuffer { pixels.extract(region) }
}

/// A MemoryStore whose listing of the split state, once armed, waits (up to 10 s) until
/// every region's marker is there: two tasks finishing the last regions at once then both
/// see all markers and both try to claim the finishing.
final class MarkerBarrierStore: Store, @unchecked Sendable {
    let inner = MemoryStore()
    let regions: Int
    let armed = Mutex(false)
    let waited = Mutex(0)
    init(regions: Int) { self.regions = regions }
    func get(_ key: String) throws -> [UInt8]? { try inner.get(key) }
    func get(_ key: String, range: ByteRange) throws -> [UInt8]? { try inner.get(key, range: range) }
    func size(_ key: String) throws -> Int? { try inner.size(key) }
    func set(_ key: String, _ bytes: [UInt8]) throws { try inner.set(key, bytes) }
    func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool { try inner.createIfAbsent(key, bytes) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func describe(_ key: String) -> String { inner.describe(key) }
    func list(prefix: String) throws -> [StoreEntry] {
        if prefix == SplitMarkers.folder, armed.withLock({ $0 }) {
            waited.withLock { $0 += 1 }
            for _ in 0..<1000 where try inner.list(prefix: prefix).filter({ $0.key.hasSuffix(".json") }).count < regions { usleep(10_000) }
        }
        return try inner.list(prefix: prefix)
    }
}

/// One input for the split tests: the image, a file standing for it (its identity goes into
/// the output mark), and the options it is converted with.
struct SplitCase: @unchecked Sendable {
    let image: PatternImage
    let options: ConvertOptions
    let file: SourceFile
    let path: String

    init(_ image: PatternImage, _ configure: (inout ConvertOptions) -> Void) throws {
        self.image = image
        var o = ConvertOptions()
        o.jobs = 3
        o.progressBars = false
        o.maxPixels = Int.max
        configure(&o)
        options = o
        path = NSTemporaryDirectory() + "tessera-split-\(UUID().uuidString).tif"
        try Data("stands for the image".utf8).write(to: URL(fileURLWithPath: path))
        file = SourceFile(path: path, format: .tiff, images: [image], fileBytes: image.description.byteCount)
    }

    /// `tessera convert` of the image, as ConvertJob does it (without the output mark).
    func whole() throws -> MemoryStore {
        let store = MemoryStore()
        _ = try ConvertJob(inputs: [path], output: "memory", options: options, log: { _ in }).convert(file, into: store, options: options, windows: nil)
        return store
    }

    func split(into store: any Store, regions: [Region], regionLevels: Int, options: ConvertOptions? = nil) -> SplitImageConversion {
        var s = SplitImageConversion(input: path, output: store, location: "memory", options: options ?? self.options, regions: regions,
                                     regionLevels: regionLevels, log: { _ in })
        let file = self.file
        s.open = { _, _ in file }
        return s
    }

    func plan(parts: Int) throws -> (regions: [Region], regionLevels: Int) {
        try SplitPlanner.regions(for: image.description, options: options, parts: parts)
    }
}

/// Every object and document of two outputs, except the split's own state and the mark.
func sameOutput(_ a: any Store, _ b: any Store) throws -> Bool {
    func contents(_ s: any Store) throws -> [String: [UInt8]] {
        var out = [String: [UInt8]]()
        for e in try s.list(prefix: "") where e.key != OutputMark.key && !e.key.hasPrefix(SplitMarkers.folder) { out[e.key] = try s.get(e.key) }
        return out
    }
    let (x, y) = (try contents(a), try contents(b))
    let differing = Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted()
    if !differing.isEmpty { Issue.record("outputs differ at \(differing.prefix(8)) (\(differing.count) keys)") }
    return differing.isEmpty && !x.isEmpty
}

@Suite struct SplitImageTests {
    static func cases() throws -> [(String, SplitCase, Int)] {
        [
            ("2-D uint16, 2 channels, sharded (0.5)", try SplitCase(PatternImage(axes: ["c", "y", "x"], shape: [2, 300, 420], dataType: .uint16, tile: [1, 32, 32])) {
                $0.chunks = [16]; $0.shards = [32]
            }, 6),
            ("2-D uint8, unsharded (0.4)", try SplitCase(PatternImage(axes: ["y", "x"], shape: [300, 500], dataType: .uint8)) {
                $0.ngff = .v04; $0.chunks = [16]
            }, 9),
            ("z-stack uint16", try SplitCase(PatternImage(axes: ["z", "y", "x"], shape: [24, 90, 70], dataType: .uint16)) {
                $0.chunks = [8]; $0.shards = [16]
            }, 8),
            ("float32", try SplitCase(PatternImage(axes: ["y", "x"], shape: [250, 310], dataType: .float32, tile: [8, 310])) {
                $0.chunks = [16]; $0.shards = [32]
            }, 4),
        ]
    }

    /// Regions converted in shuffled order by several tasks, then finished by the last:
    /// byte for byte the one-machine conversion; no two regions (nor the finishing) write
    /// one object key.
    @Test func splitEqualsWholeAndRegionsNeverShareAnObject() throws {
        for (name, c, coarse) in try Self.cases() { for parts in [coarse, 4 * coarse] {
            let whole = try c.whole()
            let (regions, regionLevels) = try c.plan(parts: parts)
            print("split test \(name), \(parts) parts: \(regions.count) regions, \(regionLevels) region levels")
            #expect(regions.count > 2, "\(name): \(regions.count) regions")
            let store = RecordingStore()
            let split = c.split(into: store, regions: regions, regionLevels: regionLevels)
            var rng = SplitMix64(seed: UInt64(parts))
            var finishedBy = [Int]()
            var written = [Int: Set<String>]()
            for (i, r) in regions.indices.shuffled(using: &rng).enumerated() {
                let s = try split.convertRegion(r, task: i % 3)
                #expect(s.status == .done)
                if s.finished { finishedBy.append(r) }
                written[r] = store.takeWrittenKeys().filter { !$0.hasPrefix(SplitMarkers.folder) && $0 != OutputMark.key }
            }
            #expect(finishedBy.count == 1, "\(name)")
            #expect(try sameOutput(whole, store.inner), "\(name): \(regions.count) regions, \(regionLevels) region levels")
            #expect(try split.status() == (regions.count, true))
            // The finishing step wrote levels regionLevels… and metadata; regions wrote below.
            let regionKeys = regions.indices.map { r in written[r]!.filter { k in (0..<regionLevels).contains(Int(k.prefix { $0 != "/" }) ?? -1) && k.split(separator: "/").count > 1 && !ZarrKeys.nodeMetadata.contains(String(k.split(separator: "/").last!)) } }
            for a in regions.indices { for b in regions.indices where a < b { #expect(regionKeys[a].isDisjoint(with: regionKeys[b]), "\(name): regions \(a) and \(b)") } }
            #expect(regionKeys.allSatisfy { !$0.isEmpty }, "\(name)")
        } }
    }

    /// Two tasks completing the last two regions at once: exactly one finishes the image.
    @Test func twoLastRegionsAtOnceFinishOnce() throws {
        let c = try Self.cases()[0].1
        let whole = try c.whole()
        for round in 0..<2 {
            let (regions, regionLevels) = try c.plan(parts: 6)
            let store = MarkerBarrierStore(regions: regions.count)
            let split = c.split(into: store, regions: regions, regionLevels: regionLevels)
            for r in 0..<(regions.count - 2) { _ = try split.convertRegion(r, task: 0) }
            // Both tasks see every marker before either claims: the claim alone must decide.
            store.armed.withLock { $0 = true }
            let results = Mutex([SplitStepSummary]())
            let errors = Mutex([String]())
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                do {
                    let s = try split.convertRegion(regions.count - 2 + k, task: 1 + k)
                    results.withLock { $0.append(s) }
                } catch { errors.withLock { $0.append("\(error)") } }
            }
            #expect(errors.withLock { $0 } == [])
            #expect(results.withLock { $0.filter(\.finished).count } == 1, "round \(round)")
            #expect(try sameOutput(whole, store.inner))
            #expect(store.waited.withLock { $0 } >= 2)
            // Finishing again (finalize) finds it finished.
            #expect(try split.finish(task: nil, force: true)?.finished == false)
        }
    }

    /// A region whose objects were damaged or lost after it was done, and whose marker was
    /// removed, is redone by a rerun: it keeps the sound objects and restores the rest.
    @Test func rerunOfARegionRestoresLostAndDamagedObjects() throws {
        for (name, c, parts) in try Self.cases() {
            let whole = try c.whole()
            let (regions, regionLevels) = try c.plan(parts: parts)
            let store = MemoryStore()
            let split = c.split(into: store, regions: regions, regionLevels: regionLevels)
            for r in regions.indices { _ = try split.convertRegion(r, task: 0) }
            let r = regions.count / 2
            let level0 = try regionObjects(store, level: 0, of: regions[r], c: c)
            #expect(level0.count >= 2, "\(name)")
            try store.delete(level0[0])
            let damaged = try #require(try store.get(level0[1]))
            try store.set(level0[1], Array(damaged.prefix(damaged.count / 2)))
            try store.delete(SplitMarkers.regionKey(r))
            #expect(try split.status() == (regions.count - 1, true))
            let redo = try split.convertRegion(r, task: 5)
            #expect(redo.status == .done && redo.written == 2, "\(name): \(redo.written) written")
            #expect(try sameOutput(whole, store), "\(name)")
            // Its marker back, the rerun of every region skips.
            #expect(try split.convertRegion(r, task: 5).status == .skipped)
        }
    }

    /// A region task killed after its objects but before its marker: the rerun writes nothing again.
    @Test func rerunAfterAKillKeepsEveryObject() throws {
        let c = try Self.cases()[2].1
        let (regions, regionLevels) = try c.plan(parts: 8)
        let store = MemoryStore()
        let split = c.split(into: store, regions: regions, regionLevels: regionLevels)
        let first = try split.convertRegion(0, task: 0)
        #expect(first.written > 0)
        try store.delete(SplitMarkers.regionKey(0))
        let again = try split.convertRegion(0, task: 0)
        #expect(again.status == .done && again.written == 0)
    }

    /// A task with other byte-changing settings, into the same output, is refused.
    @Test func laterRegionTasksCheckTheMark() throws {
        let c = try Self.cases()[1].1
        let (regions, regionLevels) = try c.plan(parts: 9)
        let store = MemoryStore()
        _ = try c.split(into: store, regions: regions, regionLevels: regionLevels).convertRegion(0, task: 0)
        var other = c.options
        other.codec = .zstd
        #expect(throws: UsageError.self) {
            _ = try c.split(into: store, regions: regions, regionLevels: regionLevels, options: other).convertRegion(1, task: 1)
        }
        let foreign = MemoryStore()
        try foreign.set("notes.txt", [1])
        #expect(throws: UsageError.self) { _ = try c.split(into: foreign, regions: regions, regionLevels: regionLevels).convertRegion(0, task: 0) }
    }

    /// Stored objects of `level` inside level-0 `region`.
    func regionObjects(_ store: any Store, level: Int, of region: Region, c: SplitCase) throws -> [String] {
        let plan = try ImagePlan(c.image.description, options: c.options)
        let r = try plan.levelRegion(region, level: level)
        let array = ZarrArray(store: store, path: String(level), metadata: plan.arrays[level], concurrency: 1)
        let box = r.gridBox(cellShape: plan.arrays[level].chunkShape)
        return array.storedChunks(in: try store.list(prefix: "\(level)/")).filter { e in
            e.coords.indices.allSatisfy { e.coords[$0] >= box.origin[$0] && e.coords[$0] < box.origin[$0] + box.counts[$0] }
        }.map(\.entry.key).sorted()
    }
}
