import HTTPTypes
import Hummingbird
import NIOCore
import ZarrCore

/// The answers of the `/api` routes: JSON, never stored by a shared cache and varying with
/// the caller's credentials (what a search or a dataset shows depends on the caller).
enum JSONAnswer {
    static let cacheControl = "private, no-store"

    static func ok(_ document: JSONValue, _ method: HTTPRequest.Method) -> Response {
        make(.ok, document.compactSerialized(), method)
    }

    /// `{"error": message, "parameter": name}` (the parameter when one is at fault).
    static func error(_ status: HTTPResponse.Status, _ message: String, parameter: String? = nil,
                      _ method: HTTPRequest.Method) -> Response {
        var body: [String: JSONValue] = ["error": .string(message)]
        if let parameter { body["parameter"] = .string(parameter) }
        return make(status, JSONValue.object(body).compactSerialized(), method)
    }

    static func make(_ status: HTTPResponse.Status, _ bytes: [UInt8], _ method: HTTPRequest.Method) -> Response {
        let headers: HTTPFields = [.contentType: "application/json", .cacheControl: cacheControl,
                                   .contentLength: String(bytes.count)]
        if method == .head { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
