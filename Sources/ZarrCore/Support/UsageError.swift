/// An error in what the user asked for (a flag, an option's value, an output that may
/// not be replaced), as opposed to what the data holds (`ZarrError`). It lives in the
/// module every command and job imports, so each throws the same type and the CLI
/// reports it as one line with a non-zero exit.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
