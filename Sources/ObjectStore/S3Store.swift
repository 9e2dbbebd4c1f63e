import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZarrCore

/// A `Store` over an S3-compatible bucket and key prefix, through libcurl with SigV4.
///
/// Objects are written with one PUT, so they appear whole or not at all. Transient
/// failures (500/502/503/504, SlowDown, resets, stalls, refused connections) are retried
/// with exponential backoff and jitter up to a budget; other 4xx answers fail at once,
/// naming the bucket and key.
public final class S3Store: Store {
    public let bucket: String
    public let prefix: String
    public let configuration: S3Configuration
    private let client: CurlClient
    private let maxAttempts: Int

    public init(bucket: String, prefix: String, configuration: S3Configuration, maxAttempts: Int = 6) {
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
        self.configuration = configuration
        self.maxAttempts = maxAttempts
        client = CurlClient(signing: configuration.credentials.map {
            CurlClient.Signing(provider: "aws:amz:\(configuration.region):s3", userpwd: "\($0.accessKey):\($0.secretKey)")
        }, stallSeconds: configuration.stallSeconds)
    }

    /// `s3://bucket/prefix` → a store, configured from the environment.
    public convenience init(url: String, endpoint: String? = nil) throws {
        guard url.hasPrefix("s3://") else { throw ZarrError.invalidRequest("'\(url)' is not an s3:// URL") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw ZarrError.invalidRequest("'\(url)' names no bucket") }
        self.init(bucket: bucket, prefix: String(rest.dropFirst(bucket.count)), configuration: .fromEnvironment(endpoint: endpoint))
    }

    public func describe(_ key: String) -> String { "s3://\(bucket)/\(objectKey(key))" }

    private func objectKey(_ key: String) -> String { joinKey(prefix, key) }

    // MARK: Store

    public func get(_ key: String) throws -> [UInt8]? {
        try checked(key)
        let r = try send("GET", key: key)
        switch r.status {
        case 200: return r.body
        case 404 where Self.errorCode(r.body) != "NoSuchBucket": return nil
        default: throw failure(r, key: key)
        }
    }

    public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
        try checked(key)
        let header: String
        switch range {
        case let .slice(o, l):
            if l <= 0 { return try size(key).map { _ in [] } }
            header = "bytes=\(o)-\(o + l - 1)"
        case let .from(o): header = "bytes=\(o)-"
        case let .suffix(n):
            if n <= 0 { return try size(key).map { _ in [] } }
            header = "bytes=-\(n)"
        }
        let r = try send("GET", key: key, headers: ["Range: \(header)"])
        switch r.status {
        case 206: return r.body
        case 200: return Array(r.body[range.resolve(size: r.body.count)]) // a server that ignores Range
        case 416: return try size(key).map { _ in [] } // the range starts past the end: clipped to nothing
        case 404 where Self.errorCode(r.body) != "NoSuchBucket": return nil
        default: throw failure(r, key: key)
        }
    }

    public func size(_ key: String) throws -> Int? { try head(key)?.size }

    public func set(_ key: String, _ bytes: [UInt8]) throws {
        try checked(key)
        if bytes.count > configuration.multipartThreshold { return try MultipartUpload(store: self, key: key).upload(bytes) }
        let r = try send("PUT", key: key, headers: ["Content-Type: application/octet-stream"], body: bytes)
        guard r.status == 200 else { throw failure(r, key: key) }
    }

    public func delete(_ key: String) throws {
        try checked(key)
        let r = try send("DELETE", key: key)
        guard [200, 204, 404].contains(r.status) else { throw failure(r, key: key) }
    }

    public func list(prefix listPrefix: String) throws -> [StoreEntry] {
        try listPages(prefix: listPrefix, delimited: false).objects
    }

    /// What one folder holds: its objects and the names of its subfolders (ListObjectsV2
    /// with a `/` delimiter, so a folder of a million chunks is not walked for its names).
    public func listFolder(_ folder: String) throws -> (objects: [StoreEntry], folders: [String]) {
        let listing = try listPages(prefix: folder.isEmpty ? "" : folder + "/", delimited: true)
        let strip = folder.isEmpty ? 0 : folder.count + 1
        return (listing.objects.map { StoreEntry(key: String($0.key.dropFirst(strip)), size: $0.size) },
                listing.folders.map { String($0.dropFirst(strip).dropLast()) })
    }

    /// Every page of a ListObjectsV2 answer; keys and folder prefixes relative to the store.
    private func listPages(prefix listPrefix: String, delimited: Bool) throws -> (objects: [StoreEntry], folders: [String]) {
        let full = prefix.isEmpty ? listPrefix : prefix + "/" + listPrefix
        var entries = [StoreEntry]()
        var folders = [String]()
        var token: String?
        let strip = prefix.isEmpty ? 0 : prefix.count + 1
        repeat {
            // Query parameters in canonical (sorted) order, as SigV4 signs them.
            var query = [String]()
            if let token { query.append("continuation-token=\(Self.encode(token, keepSlash: false))") }
            if delimited { query.append("delimiter=%2F") }
            query.append("list-type=2")
            query.append("prefix=\(Self.encode(full, keepSlash: false))")
            let r = try send("GET", key: nil, query: query.joined(separator: "&"))
            guard r.status == 200 else { throw failure(r, key: listPrefix) }
            let page = ListPage.parse(r.body)
            entries += page.entries.compactMap { e in
                e.key.count > strip || strip == 0 ? StoreEntry(key: String(e.key.dropFirst(strip)), size: e.size) : nil
            }
            folders += page.folders.compactMap { $0.count > strip ? String($0.dropFirst(strip)) : nil }
            token = page.truncated ? page.nextToken : nil
        } while token != nil
        return (entries, folders)
    }

    /// What a HEAD tells about an object: size, entity tag and modification date as S3
    /// sent them, or nil if there is no such object.
    public func head(_ key: String) throws -> ObjectHead? {
        try checked(key)
        let r = try send("HEAD", key: key)
        switch r.status {
        case 200: return ObjectHead(size: r.contentLength ?? 0, etag: r.headers["etag"], lastModified: r.headers["last-modified"])
        case 404: return nil
        default: throw failure(r, key: key)
        }
    }

    // MARK: HTTP

    private func checked(_ key: String) throws {
        guard !key.isEmpty, !key.hasPrefix("/"), !key.contains("\0"),
              !key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw ZarrError.invalidRequest("'\(key)' is not a valid store key")
        }
    }

    private func url(for key: String?, query: String) -> String {
        let path = key.map { "/" + Self.encode(objectKey($0), keepSlash: true) } ?? "/"
        let q = query.isEmpty ? "" : "?" + query
        if let endpoint = configuration.endpoint {
            if configuration.pathStyle { return "\(endpoint)/\(bucket)\(key == nil ? "" : path)\(q)" }
            let scheme = endpoint.hasPrefix("http://") ? "http://" : "https://"
            return "\(scheme)\(bucket).\(endpoint.dropFirst(scheme.count))\(path)\(q)"
        }
        if configuration.pathStyle { return "https://s3.\(configuration.region).amazonaws.com/\(bucket)\(key == nil ? "" : path)\(q)" }
        return "https://\(bucket).s3.\(configuration.region).amazonaws.com\(path)\(q)"
    }

    /// One request with retries. Transient failures back off 100 ms, 200 ms, 400 ms, …
    /// (capped at 5 s, with jitter) until `maxAttempts`; then the last failure is reported.
    func send(_ method: String, key: String?, query: String = "", headers: [String] = [], body: [UInt8]? = nil) throws -> HTTPResponse {
        var request = HTTPRequest(method: method, url: url(for: key, query: query), headers: headers, body: body)
        request.headers.append("x-amz-content-sha256: UNSIGNED-PAYLOAD")
        if let token = configuration.credentials?.sessionToken { request.headers.append("x-amz-security-token: \(token)") }
        var lastProblem = ""
        for attempt in 0..<maxAttempts {
            if attempt > 0 {
                let backoff = min(5.0, 0.1 * pow(2, Double(attempt - 1)))
                Thread.sleep(forTimeInterval: backoff * Double.random(in: 0.5...1.0))
            }
            do {
                let response = try client.perform(request)
                if [500, 502, 503, 504].contains(response.status) || Self.errorCode(response.body) == "SlowDown" {
                    lastProblem = Self.summary(response)
                    continue
                }
                return response
            } catch let e as TransportError {
                lastProblem = e.message
            }
        }
        let what = key.map(describe) ?? "s3://\(bucket)/\(prefix)"
        throw ZarrError.storage(key: what, reason: "\(method) failed after \(maxAttempts) attempts: \(lastProblem)")
    }

    func failure(_ r: HTTPResponse, key: String) -> ZarrError {
        var reason = Self.summary(r)
        switch Self.errorCode(r.body) ?? "" {
        case "NoSuchBucket": reason = "bucket '\(bucket)' does not exist (\(reason))"
        case "InvalidAccessKeyId", "SignatureDoesNotMatch": reason = "the credentials were refused (\(reason))"
        default: if r.status == 403 { reason = "access denied (\(reason))" }
        }
        return .storage(key: describe(key), reason: reason)
    }

    static func summary(_ r: HTTPResponse) -> String {
        let code = errorCode(r.body).map { " \($0)" } ?? ""
        return "HTTP \(r.status)\(code)"
    }

    /// The `<Code>` of an S3 XML error body.
    static func errorCode(_ body: [UInt8]) -> String? {
        guard !body.isEmpty, let text = String(bytes: body.prefix(4096), encoding: .utf8),
              let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex) else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// RFC 3986 percent-encoding, as SigV4 canonicalises paths and query values.
    static func encode(_ s: String, keepSlash: Bool) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if keepSlash { allowed.insert("/") }
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// An object's attributes as a HEAD reports them.
public struct ObjectHead: Sendable, Equatable {
    public var size: Int
    /// Quoted, as S3 sends it.
    public var etag: String?
    /// An HTTP date.
    public var lastModified: String?
}

/// One page of a ListObjectsV2 answer.
struct ListPage {
    var entries: [(key: String, size: Int)] = []
    /// CommonPrefixes of a delimited listing, each ending in the delimiter.
    var folders: [String] = []
    var truncated = false
    var nextToken: String?

    static func parse(_ body: [UInt8]) -> ListPage {
        let collector = Collector()
        let parser = XMLParser(data: Data(body))
        parser.delegate = collector
        _ = parser.parse()
        return collector.page
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var page = ListPage()
        var text = ""
        var key = "", size = 0
        var inCommonPrefixes = false

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            text = ""
            if name == "CommonPrefixes" { inCommonPrefixes = true }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "Key": key = text
            case "Prefix" where inCommonPrefixes: page.folders.append(text)
            case "CommonPrefixes": inCommonPrefixes = false
            case "Size": size = Int(text) ?? 0
            case "Contents": page.entries.append((key, size))
            case "IsTruncated": page.truncated = text == "true"
            case "NextContinuationToken": page.nextToken = text
            default: break
            }
        }
    }
}
