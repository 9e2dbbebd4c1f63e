import Conversion
import Foundation
import ZarrCore

/// One region of a split image (Conversion's SplitImageConversion does the work).
enum RegionWork {
    static func convert(_ input: JobInput, region: Int, task: Int, destination: String, options: ConvertOptions,
                        log: @escaping @Sendable (String) -> Void) throws -> WorkResult {
        throw UsageError("'\(input.input)' region \(region): converting split images is not built yet")
    }
}
