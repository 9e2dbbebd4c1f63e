import ArgumentParser
import Conversion
import Foundation
import ZarrCore

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Re-encode a Zarr array or group (v2/v3), e.g. many small v2 chunks into v3 shards.",
        discussion: """
        Streams one destination object (chunk or shard) at a time per worker, so memory stays \
        bounded. Metadata is written last; re-running after an interruption skips objects \
        that are already complete.
        """
    )

    @Argument(help: "Source Zarr array or group.") var source: String
    @Argument(help: "Destination folder.") var destination: String
    @Option(name: .customLong("zarr-format"), help: "2 or 3 (default: the source's).") var zarrFormat: Int?
    @Option(help: "Chunk shape, e.g. 64,64,64 (right-aligned to each array's rank).") var chunks: String?
    @Option(help: "Shard shape (Zarr v3), a multiple of the chunk shape.") var shards: String?
    @Option(help: "Compression: \(CodecChoice.allCases.map(\.rawValue).joined(separator: "|")).") var codec: String?
    @Option(help: "Compression level.") var level: Int?
    @Option(help: "Exact codecs as JSON: a v3 codecs list, or a v2 compressor object.") var codecs: String?
    @Option(help: "Chunk memory order: C or F.") var order: String?
    @Option(help: "Parallel workers (default: cores).") var jobs: Int = defaultConcurrency
    @Flag(name: .customLong("no-fsync"), help: "Skip flushing the copy to disk before its metadata: faster, still atomic, but not safe against power loss.") var noFsync = false
    @Flag(help: "Delete the destination first instead of resuming into it: only a Zarr hierarchy or Tessera's own output, never one holding the source.") var overwrite = false

    func run() throws {
        try reportingErrors {
            var options = CopyOptions(jobs: max(1, jobs), overwrite: overwrite)
            if let zarrFormat {
                guard let f = ZarrFormat(rawValue: zarrFormat) else { throw UsageError("--zarr-format must be 2 or 3") }
                options.format = f
            }
            options.chunks = try chunks.map { try parseShape($0, option: "--chunks") }
            options.shards = try shards.map { try parseShape($0, option: "--shards") }
            if let codec {
                guard let c = CodecChoice(rawValue: codec) else { throw UsageError("unknown --codec '\(codec)'") }
                options.codec = c
                try c.checkLevel(level)
            }
            options.level = level
            if let codecs {
                options.codecsJSON = try JSONValue.parse(Array(codecs.utf8), key: "--codecs")
            }
            if let order {
                guard let o = ChunkOrder(rawValue: order.uppercased()) else { throw UsageError("--order must be C or F") }
                options.order = o
            }
            let src = try StoreLocation(source)
            let dst = try StoreLocation(destination, durability: noFsync ? .unsynced : .synced)
            let copy = ZarrCopy(source: src.store, sourcePath: "", destination: dst.store, destinationPath: "",
                                options: options, log: logLine)
            let s = try copy.run()
            let mb = Double(s.inputBytes) / 1e6
            logLine(String(format: "copied %d array(s): %d objects written, %d already complete, %d source chunks decoded, %.1f MB in, %.1f MB out, %.2f s, %.1f MB/s",
                           s.arrays, s.written, s.skipped, s.decodes, mb, Double(s.outputBytes) / 1e6, s.seconds, mb / max(s.seconds, 1e-9)))
        }
    }
}

func parseShape(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw UsageError("\(option) must be a comma-separated list of positive integers, got '\(text)'")
    }
    return parts.map { $0! }
}
