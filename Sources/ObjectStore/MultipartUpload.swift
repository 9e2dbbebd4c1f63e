import Foundation
import Synchronization
import ZarrCore

/// One large object uploaded in parts, in parallel. The object appears only when the
/// upload completes; any failure aborts the upload, so no parts are left behind (an
/// unfinished multipart upload is invisible to readers but is billed and clutters
/// listings).
struct MultipartUpload {
    let store: S3Store
    let key: String
    var concurrency = 4

    func upload(_ bytes: [UInt8]) throws {
        let start = try store.send("POST", key: key, query: "uploads=", headers: ["Content-Type: application/octet-stream"])
        guard start.status == 200, let uploadID = Self.element("UploadId", in: start.body) else { throw store.failure(start, key: key) }
        let encodedID = S3Store.encode(uploadID, keepSlash: false)
        do {
            let partSize = store.configuration.partSize
            let count = (bytes.count + partSize - 1) / partSize
            let etags = Mutex([String](repeating: "", count: count))
            try parallelFor(count, width: concurrency) { i in
                let part = Array(bytes[(i * partSize)..<min(bytes.count, (i + 1) * partSize)])
                let r = try store.send("PUT", key: key, query: "partNumber=\(i + 1)&uploadId=\(encodedID)", body: part)
                guard r.status == 200, let etag = r.headers["etag"] else { throw store.failure(r, key: key) }
                etags.withLock { $0[i] = etag }
            }
            let parts = etags.withLock { $0 }.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }
            let body = Array("<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>".utf8)
            let done = try store.send("POST", key: key, query: "uploadId=\(encodedID)", headers: ["Content-Type: application/xml"], body: body)
            // S3 may answer 200 and still report an error in the body.
            guard done.status == 200, S3Store.errorCode(done.body) == nil else { throw store.failure(done, key: key) }
        } catch {
            _ = try? store.send("DELETE", key: key, query: "uploadId=\(encodedID)")
            throw error
        }
    }

    static func element(_ name: String, in body: [UInt8]) -> String? {
        guard let text = String(bytes: body, encoding: .utf8), let a = text.range(of: "<\(name)>"),
              let b = text.range(of: "</\(name)>", range: a.upperBound..<text.endIndex) else { return nil }
        return String(text[a.upperBound..<b.lowerBound])
    }
}
