import ImageSources
/// Why `tessera plan` refuses its inputs or options: one line, naming the input, the
/// CSV row or the file concerned.
public enum PlanError: Error, CustomStringConvertible, Equatable {
    case missingInput(String)
    case globMatchesNothing(String)
    /// A directory or an S3 prefix holding no TIFF, HDF5 or FITS file.
    case noImages(String)
    /// A row of a CSV/TSV list: `file:line`.
    case badRow(String, String)
    case collision(output: String, inputs: [String])
    case badTasks(Int)
    case exists(String)
    case cannotWrite(String, String)

    public var description: String {
        switch self {
        case let .missingInput(p): return "'\(p)': no such file, directory or S3 object"
        case let .globMatchesNothing(p): return "'\(p)': the pattern matches no TIFF, HDF5 or FITS file"
        case let .noImages(p): return "'\(p)': holds no \(SourceOpener.formatNames) file"
        case let .badRow(row, reason): return "\(row): \(reason)"
        case let .collision(output, inputs):
            return "inputs \(inputs.map { "'\($0)'" }.joined(separator: " and ")) would both be written to '\(output)'; give them names in a CSV list"
        case let .badTasks(n): return "--tasks must be at least 1, got \(n)"
        case let .exists(p): return "'\(p)' already exists; pass --force to replace it"
        case let .cannotWrite(p, reason): return "'\(p)': cannot be written: \(reason)"
        }
    }
}
