import CCurl
import Foundation
import Synchronization

/// One HTTP exchange, as S3 needs it: a method, a URL, headers, maybe a body.
struct HTTPRequest {
    var method: String
    var url: String
    var headers: [String] = []
    var body: [UInt8]? = nil
    /// An answer whose body grows past this is cut off (`AnswerTooLarge`): a server that
    /// ignores a Range or streams without end must not exhaust memory.
    var maxResponseBytes = StorageLimits.answerBytes
}

struct HTTPResponse {
    var status: Int
    var body: [UInt8]
    /// Content-Length of the response (HEAD answers carry the object size here).
    var contentLength: Int?
    /// Response headers, names lower-cased (the last value wins).
    var headers: [String: String] = [:]
}

/// An answer cut off at `HTTPRequest.maxResponseBytes`; not retried.
struct AnswerTooLarge: Error {
    var limit: Int
}

/// A transport failure (no HTTP status): connection refused, reset, timed out, stalled.
struct TransportError: Error {
    var code: Int32
    var message: String
}

/// Blocking HTTP over libcurl easy handles, reused from a pool so connections stay open
/// between requests (keep-alive) without sharing a handle between threads.
final class CurlClient: @unchecked Sendable {
    /// SigV4 signing by libcurl: "aws:amz:REGION:s3" and the key pair, or nil (anonymous).
    struct Signing {
        var provider: String
        var userpwd: String
    }

    /// A libcurl easy handle; used by one thread at a time (taken from and returned to `idle`).
    private struct Handle: @unchecked Sendable { let raw: UnsafeMutableRawPointer }
    private let idle = Mutex<[Handle]>([])
    private let signing: Signing?
    /// A transfer slower than 1 byte/s for this long counts as stalled and is retried.
    private let stallSeconds: Int
    /// `CURLOPT_CONNECT_TO` entries (see `S3Configuration.connectTo`).
    private let connectTo: [String]

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(signing: Signing?, stallSeconds: Int, connectTo: [String] = []) {
        _ = Self.globalInit
        self.signing = signing
        self.stallSeconds = stallSeconds
        self.connectTo = connectTo
    }

    deinit {
        for h in idle.withLock({ $0 }) { curl_easy_cleanup(h.raw) }
    }

    /// Collects a response body; passed to libcurl as its write-callback context.
    private final class Sink {
        var bytes = [UInt8]()
        var headers = [String: String]()
        let limit: Int
        var overflowed = false
        init(limit: Int) { self.limit = limit }
    }

    func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let handle = idle.withLock({ $0.popLast()?.raw }) ?? curl_easy_init() else {
            throw TransportError(code: -1, message: "cannot create a libcurl handle")
        }
        defer {
            curl_easy_reset(handle)
            idle.withLock { $0.append(Handle(raw: handle)) }
        }
        let sink = Sink(limit: request.maxResponseBytes)
        var headers: UnsafeMutablePointer<curl_slist>?
        // A body is raw bytes: libcurl would otherwise label it as a urlencoded form, which
        // some servers then parse away. (No empty "Expect:" to skip 100-continue: libcurl
        // 7.88 signs that header and then drops it, and S3 rejects the signature.)
        var lines = request.headers
        if request.body != nil, !lines.contains(where: { $0.lowercased().hasPrefix("content-type:") }) {
            lines.append("Content-Type: application/octet-stream")
        }
        for h in lines { headers = curl_slist_append(headers, h) }
        defer { curl_slist_free_all(headers) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        _ = tessera_curl_setopt_string(handle, CURLOPT_URL, request.url)
        _ = tessera_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = tessera_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
        _ = tessera_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = tessera_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, stallSeconds)
        _ = tessera_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        var connectTo: UnsafeMutablePointer<curl_slist>?
        for entry in self.connectTo { connectTo = curl_slist_append(connectTo, entry) }
        defer { curl_slist_free_all(connectTo) }
        if connectTo != nil { _ = tessera_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, connectTo) }
        if let signing {
            _ = tessera_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, signing.provider)
            _ = tessera_curl_setopt_string(handle, CURLOPT_USERPWD, signing.userpwd)
        }
        let context = Unmanaged.passUnretained(sink).toOpaque()
        _ = tessera_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
        _ = tessera_curl_setopt_write_callback(handle) { data, size, count, context in
            let n = size * count
            guard let data, let context else { return n }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            guard n <= sink.limit - sink.bytes.count else {
                sink.overflowed = true
                return 0  // libcurl ends the transfer with CURLE_WRITE_ERROR
            }
            data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            return n
        }
        _ = tessera_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, context)
        _ = tessera_curl_setopt_header_callback(handle) { data, size, count, context in
            let n = size * count
            guard let data, let context else { return n }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let line = data.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
            if let colon = line.firstIndex(of: ":") {
                sink.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return n
        }
        errorBuffer.withUnsafeMutableBufferPointer { _ = tessera_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, $0.baseAddress) }
        switch request.method {
        case "GET": break
        case "HEAD": _ = tessera_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default: _ = tessera_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        let body = request.body ?? (request.method == "PUT" || request.method == "POST" ? [] : nil)
        let code: CURLcode = body.map { bytes in
            bytes.withUnsafeBytes { raw in
                _ = tessera_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                _ = tessera_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                return curl_easy_perform(handle)
            }
        } ?? curl_easy_perform(handle)
        // The error buffer was handed to libcurl; clear it from the handle before it dies.
        _ = tessera_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, nil)
        if sink.overflowed { throw AnswerTooLarge(limit: request.maxResponseBytes) }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TransportError(code: Int32(code.rawValue), message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        _ = tessera_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var length: curl_off_t = -1
        _ = tessera_curl_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        return HTTPResponse(status: status, body: sink.bytes, contentLength: length >= 0 ? Int(length) : nil, headers: sink.headers)
    }
}
