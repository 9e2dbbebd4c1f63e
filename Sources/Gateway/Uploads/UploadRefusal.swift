import HTTPTypes
import Hummingbird
import ZarrCore

/// Why an upload is refused; each is one JSON answer `{"error": …}` (Docs/catalog.md, "Uploads").
enum UploadRefusal: Error, Equatable {
    case unauthenticated
    case forbidden(String)
    case badName(String)
    case tooLarge(maxFileBytes: Int64)
    case overQuota(quotaBytes: Int64, usedBytes: Int64, requestBytes: Int64)
    case diskFull(freeBytes: Int64, requestBytes: Int64)
    case notRecognised
    case exists(String)
    case incomplete
    case badLength

    var status: HTTPResponse.Status {
        switch self {
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .badName, .incomplete, .badLength: .badRequest
        case .tooLarge: .contentTooLarge
        case .overQuota, .diskFull: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .notRecognised: .unsupportedMediaType
        case .exists: .conflict
        }
    }

    var document: JSONValue {
        switch self {
        case .unauthenticated: .object(["error": .string("uploads need credentials")])
        case let .forbidden(why), let .badName(why), let .exists(why): .object(["error": .string(why)])
        case let .tooLarge(max):
            .object(["error": .string("the file is larger than the largest upload allowed"), "maxFileBytes": .int(max)])
        case let .overQuota(quota, used, request):
            .object(["error": .string("quota exceeded"), "quotaBytes": .int(quota), "usedBytes": .int(used),
                     "requestBytes": .int(request)])
        case let .diskFull(free, request):
            .object(["error": .string("not enough free space in the staging folder"), "freeBytes": .int(free),
                     "requestBytes": .int(request)])
        case .notRecognised:
            .object(["error": .string("not a recognised image format (TIFF, HDF5, HDF4, FITS, DICOM, DM or slide, by its name and first bytes)")])
        case .incomplete: .object(["error": .string("the body ended before its Content-Length")])
        case .badLength: .object(["error": .string("Content-Length is not a number of bytes")])
        }
    }

    /// The answer. `closing`: the body was not read to its end, so the connection closes after
    /// the answer (`Connection: close`, acted on by `ResponderAnswerObserver`) instead of
    /// Hummingbird reading and discarding the rest of a body that may be gigabytes long.
    func response(closing: Bool, _ method: HTTPRequest.Method) -> Response {
        var response = JSONAnswer.make(status, document.compactSerialized(), method)
        if self == .unauthenticated { response.headers[.wwwAuthenticate] = "Bearer realm=\"tessera\"" }
        if closing { response.headers[.connection] = "close" }
        return response
    }
}
