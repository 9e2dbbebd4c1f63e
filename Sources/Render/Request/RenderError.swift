import ZarrCore

/// Every failure the render reports itself, each with the HTTP status the gateway answers
/// and one line for the user (the CLI prints the same line). Data errors from the store
/// (a corrupt chunk, an unreadable object) stay `ZarrError`/`StorageError`.
public enum RenderError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A parameter with a bad value, or a value the image cannot satisfy (a channel it does
    /// not have, a region outside it, an output over a cap): 400, naming the parameter.
    case badParameter(String, String)
    /// No NGFF image at the path: 404.
    case imageNotFound(String)
    /// An image this renderer cannot draw (no y/x axes, an unsupported data type,
    /// inconsistent multiscales): 422, naming the image.
    case unsupportedImage(String, String)
    /// Valid grammar the renderer does not do yet (`subtract=`, `format=tiff|h5`): 501.
    case notImplemented(String)
    /// An encoder failed on valid input (out of memory in a C library): 500.
    case encoder(String)
    /// `stats=image` for an image without stored statistics (converted by an older
    /// Tessera or another tool, or float16): 409, naming the image.
    case noStoredStatistics(String)
    /// `stats=image` for an image whose stored statistics are damaged (truncated, a bad
    /// checksum) or describe another image (rewritten by another tool since): 409, naming
    /// the image and the reason. No fallback, so a whole-image window is never a region's.
    case damagedStoredStatistics(String, String)

    /// The HTTP status the gateway answers with.
    public var status: Int {
        switch self {
        case .badParameter: return 400
        case .imageNotFound: return 404
        case .unsupportedImage: return 422
        case .notImplemented: return 501
        case .encoder: return 500
        case .noStoredStatistics, .damagedStoredStatistics: return 409
        }
    }

    /// The parameter at fault, for the JSON answer's `parameter` field.
    public var parameter: String? {
        if case let .badParameter(name, _) = self { return name }
        return nil
    }

    /// The answer's body: `{"error": "<the one line>", "parameter": "<name>"}` (no
    /// `parameter` when no single parameter is at fault).
    public var json: [UInt8] {
        var o: [String: JSONValue] = ["error": .string(description)]
        if let parameter { o["parameter"] = .string(parameter) }
        return JSONValue.object(o).compactSerialized()
    }

    public var description: String {
        switch self {
        case let .badParameter(name, message): return "\(name): \(message)"
        case let .imageNotFound(path): return "no NGFF image at '\(path)'"
        case let .unsupportedImage(path, reason): return "cannot render '\(path)': \(reason)"
        case let .notImplemented(what): return "\(what) is not implemented yet"
        case let .encoder(reason): return "encoding failed: \(reason)"
        case let .noStoredStatistics(image):
            return "stats: '\(image)' has no stored statistics (.tessera-stats.bin; images converted before Tessera wrote them, or by other tools, or float16); use stats=region or convert it again"
        case let .damagedStoredStatistics(image, reason):
            return "stats: '\(image)' has unusable stored statistics (.tessera-stats.bin: \(reason)); use stats=region or convert it again"
        }
    }
}
