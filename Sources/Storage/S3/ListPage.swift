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
        for object in document.records("Contents") {
            if let size = object["Size"], Int(size).map({ $0 < 0 }) ?? true {
                throw S3XMLError(reason: "listed size '\(size)' is not a byte count")
            }
            guard let key = object["Key"], !key.isEmpty, let size = object["Size"].flatMap(Int.init) else {
                throw S3XMLError(reason: "a listed object has no key or size")
            }
            page.entries.append((key, size))
        }
        page.folders = document.records("CommonPrefixes").compactMap { $0["Prefix"] }
        page.truncated = document.field("IsTruncated") == "true"
        page.nextToken = document.field("NextContinuationToken")
        if page.truncated, page.nextToken?.isEmpty ?? true {
            throw S3XMLError(reason: "the page says more follows but gives no continuation token")
        }
        return page
    }
}
