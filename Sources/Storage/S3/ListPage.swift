/// One page of a ListObjectsV2 answer, checked: a page that does not parse, an entry
/// without a key or with a size that is not a number, or a page that says more follows
/// but gives no token to ask for it, is an error (the caller retries it), so a damaged
/// page never passes for the end of the listing.
struct ListPage: ListingPage {
    static let operation = "ListObjectsV2"
    var next: String? { truncated ? nextToken : nil }

    var entries: [(key: String, size: Int)] = []
    /// CommonPrefixes of a delimited listing, each ending in the delimiter.
    var folders: [String] = []
    var truncated = false
    var nextToken: String?

    static func parse(_ body: [UInt8]) throws(S3XMLError) -> ListPage {
        let document = try S3XMLDocument.parse(body, root: "ListBucketResult")
        var page = ListPage()
        var key: String?, size: Int?
        for e in document.elements {
            switch (e.parent, e.name) {
            case ("Contents", "Key"): key = e.text
            case ("Contents", "Size"):
                guard let n = Int(e.text), n >= 0 else { throw S3XMLError(reason: "listed size '\(e.text)' is not a byte count") }
                size = n
            case (_, "Contents"):
                guard let k = key, !k.isEmpty, let s = size else { throw S3XMLError(reason: "a listed object has no key or size") }
                page.entries.append((k, s))
                key = nil
                size = nil
            case ("CommonPrefixes", "Prefix"): page.folders.append(e.text)
            case ("ListBucketResult", "IsTruncated"): page.truncated = e.text == "true"
            case ("ListBucketResult", "NextContinuationToken"): page.nextToken = e.text
            default: break
            }
        }
        if page.truncated, page.nextToken?.isEmpty ?? true {
            throw S3XMLError(reason: "the page says more follows but gives no continuation token")
        }
        return page
    }
}
