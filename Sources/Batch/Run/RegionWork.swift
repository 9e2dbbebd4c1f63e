import Conversion
import Foundation
import Storage
import ZarrCore

/// One region of a split image (Conversion's SplitImageConversion does the work); the
/// task completing the last region also finishes the image, reported as its own step.
enum RegionWork {
    static func conversion(_ input: JobInput, path: String, destination: String, options: ConvertOptions,
                           log: @escaping @Sendable (String) -> Void) throws -> SplitImageConversion {
        guard let split = input.split else { throw UsageError("'\(input.input)' is not split into regions") }
        return SplitImageConversion(input: path, output: try openStore(destination, durability: options.fsync ? .synced : .unsynced), location: destination, options: options,
                                    regions: split.regions.map { Region(origin: $0.origin, shape: $0.shape) },
                                    regionLevels: split.regionLevels, log: log)
    }

    static func convert(_ input: JobInput, region: Int, task: Int, destination: String, options: ConvertOptions,
                        log: @escaping @Sendable (String) -> Void) throws -> WorkResult {
        // A finished image's regions are all done: no need to fetch an S3 input to know.
        if input.input.hasPrefix("s3://"),
           try conversion(input, path: input.input, destination: destination, options: options, log: log).status().finished {
            return WorkResult(status: .skipped, bytesOut: 0, objects: 0)
        }
        return try LocalInput.with(input.input) { path in
            let s = try conversion(input, path: path, destination: destination, options: options, log: log).convertRegion(region, task: task)
            return WorkResult(status: s.status, bytesOut: s.outputBytes, objects: s.written,
                              finish: s.finished ? (s.finishBytes, s.finishWritten) : nil)
        }
    }
}
