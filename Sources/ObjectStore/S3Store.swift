import Foundation
import Synchronization
import ZarrCore

/// A `Store` over an S3-compatible bucket and key prefix, through libcurl with SigV4.
///
/// Objects are written with one PUT, so they appear whole or not at all. Transient
/// failures (500/502/503/504, SlowDown, resets, stalls, refused connections) are retried
/// with exponential backoff and jitter up to a budget; other 4xx answers fail at once,
/// naming the bucket and key. Answers are checked, not trusted: a listing page must parse
/// and a listing must end (no repeated continuation token, at most `maxListPages` pages);
/// a ranged answer must carry the range asked for; an object this store listed and did
/// not delete must not answer 404 (that would otherwise read as fill value).
public final class S3Store: Store {
    public let bucket: String
    public let prefix: String
    public let configuration: S3Configuration
    private let client: CurlClient
    private let maxAttempts: Int
    /// Keys (relative to the store) that a `list(prefix:)` of this store returned and
    /// that it has not deleted since: for these, a 404 is a fault, not an absence.
    private let listed = Mutex<Set<String>>([])

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

    func objectKey(_ key: String) -> String { joinKey(prefix, key) }

    // MARK: Store

    public func get(_ key: String) throws -> [UInt8]? {
        try checked(key)
        let r = try send("GET", key: key)
        switch r.status {
        case 200: return r.body
        case 404 where Self.errorCode(r.body) != "NoSuchBucket": try confirmAbsent(key, r); return nil
        default: throw failure(r, key: key)
        }
    }

    public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
        try checked(key)
        switch range {
        case let .slice(o, l):
            if l <= 0 { return try size(key).map { _ in [] } }
            guard o >= 0, !o.addingReportingOverflow(l).overflow else {
                throw ZarrError.invalidRequest("byte range \(o)+\(l) of '\(describe(key))' is out of bounds")
            }
        case let .from(o):
            guard o >= 0 else { throw ZarrError.invalidRequest("byte range from \(o) of '\(describe(key))' is out of bounds") }
        case let .suffix(n):
            if n <= 0 { return try size(key).map { _ in [] } }
        }
        // A 206 for another range than the one asked for would decode as wrong data:
        // it is retried like a damaged answer, and reported if it persists.
        let r = try send("GET", key: key, headers: ["Range: \(range.httpRange)"]) { r in
            r.status == 206 ? ContentRange.mismatch(header: r.headers["content-range"], asked: range, bodyCount: r.body.count) : nil
        }
        switch r.status {
        case 206: return r.body
        case 200: return Array(r.body[range.resolve(size: r.body.count)]) // a server that ignores Range
        case 416: return try size(key).map { _ in [] } // the range starts past the end: clipped to nothing
        case 404 where Self.errorCode(r.body) != "NoSuchBucket": try confirmAbsent(key, r); return nil
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
        _ = listed.withLock { $0.remove(key) }
    }

    /// A 404 for `key` means nothing is stored there, unless this store listed the
    /// key and has not deleted it since. S3 lists and reads consistently, so then the
    /// object vanished under us or the server is faulty; reading it as absent would turn
    /// a stored chunk into fill value, so it is an error.
    private func confirmAbsent(_ key: String, _ r: HTTPResponse) throws {
        guard listed.withLock({ $0.contains(key) }) else { return }
        throw ZarrError.storage(key: describe(key), reason: "listed moments ago, but now answers \(Self.summary(r)) "
                                + "(deleted meanwhile, or a faulty server); not read as fill value")
    }

    public func list(prefix listPrefix: String) throws -> [StoreEntry] {
        let objects = try listPages(prefix: listPrefix, delimited: false).objects
        listed.withLock { set in for o in objects { set.insert(o.key) } }
        return objects
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
        var seenTokens = Set<String>()
        var pages = 0
        let strip = prefix.isEmpty ? 0 : prefix.count + 1
        repeat {
            // A server that hands back a token it gave before, or never stops giving new
            // ones, would keep this loop (and the command) going for ever.
            pages += 1
            guard pages <= configuration.maxListPages else {
                throw ZarrError.storage(key: describe(listPrefix), reason: "the listing did not end after \(configuration.maxListPages) pages "
                                        + "(raise TESSERA_S3_MAX_LIST_PAGES if the prefix really holds that many objects)")
            }
            // Query parameters in canonical (sorted) order, as SigV4 signs them.
            var query = [String]()
            if let token { query.append("continuation-token=\(Self.encode(token, keepSlash: false))") }
            if delimited { query.append("delimiter=%2F") }
            query.append("list-type=2")
            query.append("prefix=\(Self.encode(full, keepSlash: false))")
            // A page that does not parse is retried like a damaged answer, never taken
            // as the end of the listing.
            var parsed: ListPage?
            let r = try send("GET", key: nil, query: query.joined(separator: "&")) { r in
                guard r.status == 200 else { return nil }
                do throws(S3XMLError) { parsed = try ListPage.parse(r.body) } catch { return "ListObjectsV2 page: \(error.reason)" }
                return nil
            }
            guard r.status == 200, let page = parsed else { throw failure(r, key: listPrefix) }
            entries += page.entries.compactMap { e in
                e.key.count > strip || strip == 0 ? StoreEntry(key: String(e.key.dropFirst(strip)), size: e.size) : nil
            }
            folders += page.folders.compactMap { $0.count > strip ? String($0.dropFirst(strip)) : nil }
            token = page.truncated ? page.nextToken : nil
            if let token, !seenTokens.insert(token).inserted {
                throw ZarrError.storage(key: describe(listPrefix), reason: "the listing loops: the server sent continuation token "
                                        + "'\(token.prefix(64))' a second time, after \(pages) pages")
            }
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
        case 404: try confirmAbsent(key, r); return nil
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
    /// `damaged` looks at an answer that is otherwise taken and says what is wrong with it
    /// (a listing page that does not parse, a 206 of another range): such an answer is
    /// retried like a transient failure.
    func send(_ method: String, key: String?, query: String = "", headers: [String] = [], body: [UInt8]? = nil,
              damaged: (HTTPResponse) -> String? = { _ in nil }) throws -> HTTPResponse {
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
                // (The body of a 2xx answer is an object's bytes, not an error document.)
                if [500, 502, 503, 504].contains(response.status) || (response.status >= 300 && Self.errorCode(response.body) == "SlowDown") {
                    lastProblem = Self.summary(response)
                    continue
                }
                if let problem = damaged(response) {
                    lastProblem = problem
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
        if RegionHint.isWrongRegion(r) {
            return .storage(key: describe(key), reason: RegionHint.reason(r, bucket: bucket, configured: configuration.region))
        }
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
