import Conversion
import Foundation
import ZarrCore

/// `tessera finalize`: finishes split images whose regions are all done but whose
/// finishing step never ran (its last task died after its regions).
public struct Finalizer: Sendable {
    public let manifest: JobManifest
    public let options: ConvertOptions
    public let log: @Sendable (String) -> Void

    public struct Outcome: Sendable {
        public var finished = 0, already = 0, waiting = 0
    }

    public init(manifest: JobManifest, options: ConvertOptions, log: @escaping @Sendable (String) -> Void) {
        self.manifest = manifest
        self.options = options
        self.log = log
    }

    public func run() throws -> Outcome {
        let outcome = Outcome()
        for input in manifest.inputs where input.split != nil {
            throw UsageError("'\(input.input)': finishing split images is not built yet")
        }
        return outcome
    }
}
