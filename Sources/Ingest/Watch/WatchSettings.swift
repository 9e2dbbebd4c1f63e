import Conversion

/// What `tessera watch` was asked to do.
public struct WatchSettings: Sendable {
    /// Watched folders (absolute, standardised).
    public var folders: [String]
    /// The output root (a local folder or `s3://…`).
    public var output: String
    public var options: ConvertOptions
    public var stableSeconds: Double = 30
    public var scanSeconds: Double = 5
    /// Files converted side by side.
    public var jobs = 1
    /// How long a claim lasts without renewal; renewed every third of it while converting.
    public var leaseSeconds: Double = 60
    /// Also log the converter's own lines (levels done, objects kept from before).
    public var verbose = false

    public init(folders: [String], output: String, options: ConvertOptions) {
        self.folders = folders; self.output = output; self.options = options
    }
}
