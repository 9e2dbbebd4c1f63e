// Tessera's side of `make bench`: write a raw array to Zarr with a fixed layout, or read
// a Zarr array back whole, and print one JSON line with the time taken. The driver
// (Benchmarks/run_bench.py) runs this and the peer tools on the same input, each in its
// own process so peak RSS is per tool.
import Foundation
import Storage
import ZarrCore

struct BenchError: Error, CustomStringConvertible { let description: String }

/// The layouts the benchmark compares (the same ones the peers write).
func metadata(layout: String, shape: [Int]) throws -> ArrayMetadata {
    let chunk = [64, 64, 64]
    switch layout {
    case "v3-blosc-zstd-sharded":
        let inner = CodecPipeline(bytesToBytes: [BloscCodec(cname: "zstd", clevel: 5, shuffle: .shuffle, typesize: 2)])
        return ArrayMetadata(format: .v3, shape: shape, chunkShape: [64, 512, 512], dataType: .uint16,
                             codecs: CodecPipeline(arrayToBytes: ShardingCodec(innerChunkShape: chunk, codecs: inner)))
    case "v2-blosc-lz4":
        return ArrayMetadata(format: .v2, shape: shape, chunkShape: chunk, dataType: .uint16,
                             codecs: CodecPipeline(bytesToBytes: [BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2)]))
    default:
        throw BenchError(description: "unknown layout \(layout)")
    }
}

func option(_ name: String, _ args: [String]) throws -> String {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { throw BenchError(description: "missing \(name)") }
    return args[i + 1]
}

func now() -> Double { Date().timeIntervalSince1970 }

/// Maps the raw uint16 input named by `--raw` with the `--shape` given.
func mapInput(_ args: [String]) throws -> (base: SharedPointer, shape: [Int], jobs: Int) {
    let raw = try option("--raw", args)
    let shape = try option("--shape", args).split(separator: ",").map { Int($0)! }
    let jobs = Int((try? option("--jobs", args)) ?? "") ?? defaultConcurrency
    let fd = open(raw, O_RDONLY)
    guard fd >= 0 else { throw BenchError(description: "cannot open \(raw)") }
    let size = shape.reduce(1, *) * 2
    guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { throw BenchError(description: "mmap failed") }
    return (SharedPointer(base: map), shape, jobs)
}

func write(_ args: [String]) throws {
    let (base, shape, jobs) = try mapInput(args)
    let layout = try option("--layout", args)
    let out = try option("--out", args)
    let size = shape.reduce(1, *) * 2
    try? FileManager.default.removeItem(atPath: out)
    let m = try metadata(layout: layout, shape: shape)
    let array = ZarrArray(store: FileStore(path: out), path: "", metadata: m, concurrency: 1)
    let coords = array.allChunkCoordinates
    let innerWidth = max(1, jobs / coords.count)
    let start = now()
    try parallelFor(coords.count, width: jobs) { i in
        let region = m.chunkRegion(coords[i])
        var chunk = NDBuffer(copying: region, from: base.base, shape: shape, dataType: .uint16)
        if region.shape != m.chunkShape {
            var padded = NDBuffer(dataType: .uint16, shape: m.chunkShape, fill: m.fillValue)
            padded.paste(chunk, from: region.origin.map { _ in 0 }, to: region.origin.map { _ in 0 }, size: region.shape)
            chunk = padded
        }
        try array.writeChunk(coords[i], chunk, concurrency: innerWidth)
    }
    try array.writeMetadata()
    let seconds = now() - start
    print("{\"tool\":\"tessera\",\"op\":\"write\",\"layout\":\"\(layout)\",\"seconds\":\(seconds),\"bytes\":\(size)}")
}

func read(_ args: [String]) throws {
    let out = try option("--out", args)
    let jobs = Int((try? option("--jobs", args)) ?? "") ?? defaultConcurrency
    let start = now()
    let array = try ZarrArray.open(store: FileStore(path: out), path: "", concurrency: jobs)
    let data = try array.readAll()
    let seconds = now() - start
    // The checksum proves every tool read the same pixels: the sum of all uint16 values.
    let sum = data.bytes.withUnsafeBytes { p in p.bindMemory(to: UInt16.self).reduce(UInt64(0)) { $0 &+ UInt64($1) } }
    print("{\"tool\":\"tessera\",\"op\":\"read\",\"seconds\":\(seconds),\"bytes\":\(data.bytes.count),\"checksum\":\(sum)}")
}

/// The compress-only floor: blosc-compress every 64³ chunk of the mapped input with
/// `jobs` threads, no storage, no pyramid — what no writer of this layout can beat.
func floor(_ args: [String]) throws {
    let (base, shape, jobs) = try mapInput(args)
    let cname = try option("--cname", args)
    let size = shape.reduce(1, *) * 2
    let grid = Region(shape: shape.map { ($0 + 63) / 64 })
    let coords = (0..<grid.elementCount).map { i in [i / (grid.shape[1] * grid.shape[2]), i / grid.shape[2] % grid.shape[1], i % grid.shape[2]] }
    let codec = BloscCodec(cname: cname, clevel: 5, shuffle: .shuffle, typesize: 2)
    let start = now()
    try parallelFor(coords.count, width: jobs) { i in
        let origin = coords[i].map { $0 * 64 }
        let region = Region(origin: origin, shape: zip(origin, shape).map { min(64, $1 - $0) })
        _ = try codec.encode(NDBuffer(copying: region, from: base.base, shape: shape, dataType: .uint16).bytes)
    }
    let seconds = now() - start
    print("{\"tool\":\"floor\",\"op\":\"compress\",\"cname\":\"\(cname)\",\"seconds\":\(seconds),\"bytes\":\(size)}")
}

tuneAllocatorForChunkBuffers()
let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "write": try write(args)
    case "read": try read(args)
    case "floor": try floor(args)
    case "catalog-schema": try catalogSchema(args)
    case "catalog": try await catalogBench(args)
    default: throw BenchError(description: "usage: tessera-bench write|read|floor|catalog|catalog-schema ...")
    }
} catch {
    FileHandle.standardError.write(Data("tessera-bench: \(error)\n".utf8))
    exit(1)
}
