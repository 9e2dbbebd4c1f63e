import Foundation
import Synchronization

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
    let client: CurlClient
    let maxAttempts: Int
    /// Keys (relative to the store) that a `list(prefix:)` of this store returned and
    /// that it has not deleted since: for these, a 404 is a fault, not an absence.
    let listed = Mutex<Set<String>>([])

    public init(bucket: String, prefix: String, configuration: S3Configuration, maxAttempts: Int = 6) {
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
        self.configuration = configuration
        self.maxAttempts = maxAttempts
        client = CurlClient(signing: configuration.credentials.map {
            CurlClient.Signing(provider: "aws:amz:\(configuration.region):s3", userpwd: "\($0.accessKey):\($0.secretKey)")
        }, stallSeconds: configuration.stallSeconds, connectTo: configuration.connectTo)
    }

    /// `s3://bucket/prefix` → a store, configured from the environment.
    public convenience init(url: String, endpoint: String? = nil) throws {
        guard url.hasPrefix("s3://") else { throw StorageError.invalidRequest("'\(url)' is not an s3:// URL") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw StorageError.invalidRequest("'\(url)' names no bucket") }
        self.init(bucket: bucket, prefix: String(rest.dropFirst(bucket.count)), configuration: .fromEnvironment(endpoint: endpoint))
    }

    public func describe(_ key: String) -> String { "s3://\(bucket)/\(objectKey(key))" }

    func objectKey(_ key: String) -> String { joinKey(prefix, key) }

    // MARK: Store

    public func get(_ key: String) throws -> [UInt8]? {
        try StoreKey.validate(key)
        let r = try send("GET", key: key, maxResponseBytes: StorageLimits.objectBytes)
        switch r.status {
        case 200: return r.body
        case 404 where Self.errorCode(r.body) != "NoSuchBucket": try confirmAbsent(key, r); return nil
        default: throw failure(r, key: key)
        }
    }

    public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
        try StoreKey.validate(key)
        switch range {
        case let .slice(o, l):
            if l <= 0 { return try size(key).map { _ in [] } }
            guard o >= 0, !o.addingReportingOverflow(l).overflow else {
                throw StorageError.invalidRequest("byte range \(o)+\(l) of '\(describe(key))' is out of bounds")
            }
        case let .from(o):
            guard o >= 0 else { throw StorageError.invalidRequest("byte range from \(o) of '\(describe(key))' is out of bounds") }
        case let .suffix(n):
            if n <= 0 { return try size(key).map { _ in [] } }
        }
        // A 206 for another range than the one asked for would decode as wrong data:
        // it is retried like a damaged answer, and reported if it persists.
        let r = try send("GET", key: key, headers: ["Range: \(range.httpRange)"], maxResponseBytes: StorageLimits.objectBytes) { r in
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
        try StoreKey.validate(key)
        if bytes.count > configuration.multipartThreshold { return try MultipartUpload(store: self, key: key).upload(bytes) }
        let r = try send("PUT", key: key, headers: ["Content-Type: application/octet-stream"], body: bytes)
        guard r.status == 200 else { throw failure(r, key: key) }
    }

    /// One PUT with `If-None-Match: *`: S3 (and moto) refuse it with 412 when the key
    /// exists. A 409 means another conditional write of the key is in flight: asked again.
    /// (Always one PUT, whatever the size: marks and claims are small.) A PUT that succeeded
    /// but whose answer was lost and retried reads as 412, i.e. false: callers treat false
    /// as "someone else has it", which errs on the side of doing nothing twice.
    public func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        try StoreKey.validate(key)
        for attempt in 0..<max(1, maxAttempts) {
            if attempt > 0 { Thread.sleep(forTimeInterval: 0.1 * Double(attempt)) }
            let r = try send("PUT", key: key, headers: ["Content-Type: application/octet-stream", "If-None-Match: *"], body: bytes)
            switch r.status {
            case 200: return true
            case 412: return false
            case 409: continue
            default: throw failure(r, key: key)
            }
        }
        throw StorageError.failed(key: describe(key), reason: "conditional PUT kept conflicting with another writer (409)")
    }

    public func delete(_ key: String) throws {
        try StoreKey.validate(key)
        let r = try send("DELETE", key: key)
        guard [200, 204, 404].contains(r.status) else { throw failure(r, key: key) }
        _ = listed.withLock { $0.remove(key) }
    }

    /// A 404 for `key` means nothing is stored there, unless this store listed the
    /// key and has not deleted it since. S3 lists and reads consistently, so then the
    /// object vanished under us or the server is faulty; reading it as absent would turn
    /// a stored chunk into fill value, so it is an error.
    func confirmAbsent(_ key: String, _ r: HTTPResponse) throws {
        guard listed.withLock({ $0.contains(key) }) else { return }
        throw StorageError.failed(key: describe(key), reason: "listed moments ago, but now answers \(Self.summary(r)) "
                                + "(deleted meanwhile, or a faulty server); not read as fill value")
    }

    /// What a HEAD tells about an object: size, entity tag and modification date as S3
    /// sent them, or nil if there is no such object.
    public func head(_ key: String) throws -> ObjectInfo? {
        try StoreKey.validate(key)
        let r = try send("HEAD", key: key)
        switch r.status {
        case 200: return ObjectInfo(size: r.contentLength ?? 0, etag: r.headers["etag"], lastModified: r.headers["last-modified"])
        case 404: try confirmAbsent(key, r); return nil
        default: throw failure(r, key: key)
        }
    }

    /// The object unless its entity tag is still the one `held` carries (If-None-Match:
    /// a 304 costs no transfer).
    public func getIfChanged(_ key: String, range: ByteRange?, held: ObjectInfo) throws -> ConditionalRead {
        guard range == nil, let etag = held.etag else {
            guard let info = try head(key) else { return .missing }
            if info.isSameVersion(as: held) { return .unchanged(info) }
            return try read(key, range: range).map { .changed($0) } ?? .missing
        }
        try StoreKey.validate(key)
        let r = try send("GET", key: key, headers: ["If-None-Match: \(etag)"], maxResponseBytes: StorageLimits.objectBytes)
        switch r.status {
        case 304: return .unchanged(held)
        case 200:
            let info = ObjectInfo(size: r.body.count, etag: r.headers["etag"], lastModified: r.headers["last-modified"])
            return .changed(StoredObject(bytes: r.body, info: info))
        case 404 where Self.errorCode(r.body) != "NoSuchBucket": try confirmAbsent(key, r); return .missing
        default: throw failure(r, key: key)
        }
    }
}
