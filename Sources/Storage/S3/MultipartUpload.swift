import Foundation
import Synchronization

/// One large object uploaded in parts, in parallel. The object appears only when the
/// upload completes; any failure aborts the upload, so no parts are left behind (an
/// unfinished multipart upload is invisible to readers but is billed and clutters
/// listings) — including one whose start was answered but the answer lost.
struct MultipartUpload {
    let store: S3Store
    let key: String
    var concurrency = 4

    func upload(_ bytes: [UInt8]) throws {
        let uploadID = try create()
        do {
            let partSize = store.configuration.partSize
            let count = (bytes.count + partSize - 1) / partSize
            let etags = Mutex([String](repeating: "", count: count))
            try parallelFor(count, width: concurrency) { i in
                let etag = try uploadPart(i + 1, Array(bytes[(i * partSize)..<min(bytes.count, (i + 1) * partSize)]), id: uploadID)
                etags.withLock { $0[i] = etag }
            }
            try complete(etags.withLock { $0 }, id: uploadID, size: bytes.count)
        } catch {
            abort(uploadID)
            throw error
        }
    }

    /// Sends part `number` (from 1) and returns its entity tag.
    func uploadPart(_ number: Int, _ part: [UInt8], id: String) throws -> String {
        let r = try store.send("PUT", key: key, query: "partNumber=\(number)&uploadId=\(S3Store.encode(id, keepSlash: false))", body: part)
        guard r.status == 200, let etag = r.headers["etag"] else { throw store.failure(r, key: key) }
        return etag
    }

    /// Makes the object of these parts (in order, `size` bytes in all) appear.
    func complete(_ etags: [String], id: String, size: Int) throws {
        let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }
        let body = Array("<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>".utf8)
        // S3 may answer 200 and still report an error in the body; AWS documents that
        // one with an InternalError is to be retried.
        let done: HTTPResponse
        do {
            done = try store.send("POST", key: key, query: "uploadId=\(S3Store.encode(id, keepSlash: false))",
                                  headers: ["Content-Type: application/xml"], body: body) { r in
                r.status == 200 && S3Store.errorCode(r.body) == "InternalError" ? "CompleteMultipartUpload: 200 OK with an InternalError" : nil
            }
        } catch {
            // Every answer lost: the server may still have made the object.
            if madeMeanwhile(etags, size: size) { return }
            throw error
        }
        // A completion the server applied but whose answer was lost is retried (by `send`,
        // or unseen by libcurl), and the retry is told the upload is gone.
        if done.status == 404, S3Store.errorCode(done.body) == "NoSuchUpload" {
            guard madeMeanwhile(etags, size: size) else {
                throw StorageError.failed(key: store.describe(key), reason: "CompleteMultipartUpload answered NoSuchUpload, and no object "
                                          + "of the \(etags.count) parts uploaded (\(size) bytes) is there")
            }
            return
        }
        guard done.status == 200, S3Store.errorCode(done.body) == nil else { throw store.failure(done, key: key) }
    }

    /// Whether the object under the key is the one these parts make: its size, and its
    /// entity tag when S3's multipart tag can be predicted from the parts' tags.
    private func madeMeanwhile(_ etags: [String], size: Int) -> Bool {
        guard let info = (try? store.head(key)) ?? nil, info.size == size else { return false }
        guard let expected = MultipartETag.of(etags) else { return true }
        return info.etag == expected
    }

    /// Gives the upload up, so no parts stay behind.
    func abort(_ id: String) {
        _ = try? store.send("DELETE", key: key, query: "uploadId=\(S3Store.encode(id, keepSlash: false))")
    }

    /// Starts the upload and returns its id. A start that was retried may have started an
    /// upload whose answer was lost: nobody would ever complete or abort it (it stays
    /// billed, invisible to readers). So the uploads in progress for the key are listed
    /// before and after, and those that appeared meanwhile, other than the one returned,
    /// are aborted. This is done after every start, not only after those `send` retried:
    /// libcurl itself resends a request once, unseen, when a reused connection is reset
    /// before any answer, and so may a proxy on the way. (Another writer starting an
    /// upload of the very same key in those moments would lose it; two writers of one key
    /// conflict anyway.) Two small requests per object of at least the multipart threshold.
    func create() throws -> String {
        // Without permission to list uploads there is no telling which are ours: then
        // none are touched.
        let before = (try? store.inProgressUploads(of: key)) ?? nil
        let start: HTTPResponse
        do {
            start = try store.send("POST", key: key, query: "uploads=", headers: ["Content-Type: application/octet-stream"])
        } catch {
            abortLost(before: before, keeping: nil)
            throw error
        }
        let uploadID = start.status == 200 ? Self.element("UploadId", in: start.body) : nil
        abortLost(before: before, keeping: uploadID)
        guard let uploadID else { throw store.failure(start, key: key) }
        return uploadID
    }

    /// Aborts the uploads of this key that were not in progress `before` and are not `keeping`.
    private func abortLost(before: Set<String>?, keeping: String?) {
        guard let before, let now = (try? store.inProgressUploads(of: key)) ?? nil else { return }
        for id in now.subtracting(before) where id != keeping {
            _ = try? store.send("DELETE", key: key, query: "uploadId=\(S3Store.encode(id, keepSlash: false))")
        }
    }

    static func element(_ name: String, in body: [UInt8]) -> String? {
        guard let text = String(bytes: body, encoding: .utf8), let a = text.range(of: "<\(name)>"),
              let b = text.range(of: "</\(name)>", range: a.upperBound..<text.endIndex) else { return nil }
        return String(text[a.upperBound..<b.lowerBound])
    }
}
