import Conversion
import Foundation
import ZarrCore

/// A whole input of a job: a local file converts in place; an `s3://` input is staged to
/// a local file first and the staged copy removed after.
enum WholeInput {
    static func convert(_ input: String, into destination: String, options: ConvertOptions,
                        log: @escaping @Sendable (String) -> Void) throws -> InputConversion {
        guard !input.hasPrefix("s3://") else {
            throw UsageError("'\(input)': reading job inputs from S3 is not built yet")
        }
        return try ConvertJob.convertInput(input, into: destination, options: options, log: log)
    }
}
