import ZarrCore

extension S3Store {
    /// The ids of the multipart uploads in progress for exactly `key`
    /// (ListMultipartUploads with the key as prefix, every page), or nil when the server
    /// will not tell (no permission, not implemented).
    func inProgressUploads(of key: String) throws -> Set<String>? {
        let full = objectKey(key)
        var ids = Set<String>()
        var keyMarker: String?, idMarker: String?
        var seenMarkers = Set<String>()
        for _ in 0..<configuration.maxListPages {
            // Query parameters in canonical (sorted) order, as SigV4 signs them.
            var query = [String]()
            if let keyMarker { query.append("key-marker=\(Self.encode(keyMarker, keepSlash: false))") }
            query.append("prefix=\(Self.encode(full, keepSlash: false))")
            if let idMarker { query.append("upload-id-marker=\(Self.encode(idMarker, keepSlash: false))") }
            query.append("uploads=")
            var parsed: UploadsPage?
            let r = try send("GET", key: nil, query: query.joined(separator: "&")) { r in
                guard r.status == 200 else { return nil }
                do throws(S3XMLError) { parsed = try UploadsPage.parse(r.body) } catch { return "ListMultipartUploads page: \(error.reason)" }
                return nil
            }
            guard r.status == 200, let page = parsed else { return nil }
            ids.formUnion(page.uploads.filter { $0.key == full }.map(\.id))
            guard page.truncated else { return ids }
            // A page that says more follows must move on, or the listing would loop.
            guard let next = page.nextKeyMarker, seenMarkers.insert("\(next)\u{0}\(page.nextUploadIdMarker ?? "")").inserted else {
                throw ZarrError.storage(key: describe(key), reason: "the listing of in-progress uploads loops")
            }
            keyMarker = next
            idMarker = page.nextUploadIdMarker
        }
        throw ZarrError.storage(key: describe(key), reason: "the listing of in-progress uploads did not end after \(configuration.maxListPages) pages")
    }
}

/// One page of a ListMultipartUploads answer.
struct UploadsPage {
    var uploads: [(key: String, id: String)] = []
    var truncated = false
    var nextKeyMarker: String?
    var nextUploadIdMarker: String?

    static func parse(_ body: [UInt8]) throws(S3XMLError) -> UploadsPage {
        let document = try S3XMLDocument.parse(body, root: "ListMultipartUploadsResult")
        var page = UploadsPage()
        var key: String?, id: String?
        for e in document.elements {
            switch (e.parent, e.name) {
            case ("Upload", "Key"): key = e.text
            case ("Upload", "UploadId"): id = e.text
            case (_, "Upload"):
                guard let k = key, let i = id, !i.isEmpty else { throw S3XMLError(reason: "a listed upload has no key or id") }
                page.uploads.append((k, i))
                key = nil
                id = nil
            case ("ListMultipartUploadsResult", "IsTruncated"): page.truncated = e.text == "true"
            case ("ListMultipartUploadsResult", "NextKeyMarker"): page.nextKeyMarker = e.text
            case ("ListMultipartUploadsResult", "NextUploadIdMarker"): page.nextUploadIdMarker = e.text
            default: break
            }
        }
        return page
    }
}
