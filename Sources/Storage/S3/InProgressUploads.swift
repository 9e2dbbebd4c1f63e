
extension S3Store {
    /// The ids of the multipart uploads in progress for exactly `key`
    /// (ListMultipartUploads with the key as prefix, every page), or nil when the server
    /// will not tell (no permission, not implemented).
    func inProgressUploads(of key: String) throws -> Set<String>? {
        let full = objectKey(key)
        var ids = Set<String>()
        let refused = try eachPage(UploadsPage.self, of: "the listing of in-progress uploads", key: key, query: { cursor in
            // Query parameters in canonical (sorted) order, as SigV4 signs them.
            var query = [String]()
            if let cursor { query.append("key-marker=\(Self.encode(cursor.keyMarker, keepSlash: false))") }
            query.append("prefix=\(Self.encode(full, keepSlash: false))")
            if let id = cursor?.uploadIdMarker { query.append("upload-id-marker=\(Self.encode(id, keepSlash: false))") }
            query.append("uploads=")
            return query.joined(separator: "&")
        }) { page in
            ids.formUnion(page.uploads.filter { $0.key == full }.map(\.id))
        }
        return refused == nil ? ids : nil
    }
}

/// One page of a ListMultipartUploads answer.
struct UploadsPage: ListingPage {
    static let operation = "ListMultipartUploads"

    /// Where the next page starts: after this key and upload id.
    struct Cursor: Hashable, CustomStringConvertible {
        var keyMarker: String
        var uploadIdMarker: String?
        var description: String { keyMarker + (uploadIdMarker.map { " " + $0 } ?? "") }
    }

    /// A page that says more follows must move on (a missing marker would loop; the
    /// loop check reports it).
    var next: Cursor? { truncated ? Cursor(keyMarker: nextKeyMarker ?? "", uploadIdMarker: nextUploadIdMarker) : nil }

    var uploads: [(key: String, id: String)] = []
    var truncated = false
    var nextKeyMarker: String?
    var nextUploadIdMarker: String?

    static func parse(_ body: [UInt8]) throws(S3XMLError) -> UploadsPage {
        let document = try S3XMLDocument.parse(body, root: "ListMultipartUploadsResult")
        var page = UploadsPage()
        for upload in document.records("Upload") {
            guard let key = upload["Key"], let id = upload["UploadId"], !id.isEmpty else {
                throw S3XMLError(reason: "a listed upload has no key or id")
            }
            page.uploads.append((key, id))
        }
        page.truncated = document.field("IsTruncated") == "true"
        page.nextKeyMarker = document.field("NextKeyMarker")
        page.nextUploadIdMarker = document.field("NextUploadIdMarker")
        return page
    }
}
