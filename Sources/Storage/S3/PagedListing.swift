/// One page of a paged S3 listing (ListObjectsV2, ListMultipartUploads), parsed and
/// checked, with the cursor that asks for the next one.
protocol ListingPage {
    associatedtype Cursor: Hashable, CustomStringConvertible
    /// The operation, for messages ("ListObjectsV2").
    static var operation: String { get }
    static func parse(_ body: [UInt8]) throws(S3XMLError) -> Self
    /// The cursor of the next page; nil when this is the last.
    var next: Cursor? { get }
}

extension S3Store {
    /// The one loop over the pages of an S3 listing: asks for each page with the query
    /// `query` makes of the cursor (nil for the first), hands it to `body`, and follows
    /// the page's cursor. A page that does not parse is retried like a damaged answer,
    /// never taken as the end of the listing; a listing that loops (a cursor the server
    /// gave before) or never ends (more than `maxListPages` pages) is an error naming
    /// `what` — a server that did either would keep the command going for ever.
    /// Returns the answer that refused the listing (not 200), or nil once it is complete.
    func eachPage<Page: ListingPage>(_: Page.Type, of what: String, key: String, tooLongHint: String = "",
                                     query: (Page.Cursor?) -> String, _ body: (Page) throws -> Void) throws -> HTTPResponse? {
        var cursor: Page.Cursor?
        var seen = Set<Page.Cursor>()
        var pages = 0
        repeat {
            pages += 1
            guard pages <= configuration.maxListPages else {
                throw StorageError.failed(key: describe(key), reason: "\(what) did not end after \(configuration.maxListPages) pages\(tooLongHint)")
            }
            var parsed: Page?
            let r = try send("GET", key: nil, query: query(cursor)) { r in
                guard r.status == 200 else { return nil }
                do throws(S3XMLError) { parsed = try Page.parse(r.body) } catch { return "\(Page.operation) page: \(error.reason)" }
                return nil
            }
            guard r.status == 200, let page = parsed else { return r }
            try body(page)
            cursor = page.next
            if let cursor, !seen.insert(cursor).inserted {
                throw StorageError.failed(key: describe(key), reason: "\(what) loops: the server sent continuation token "
                                          + "'\(String(describing: cursor).prefix(64))' a second time, after \(pages) pages")
            }
        } while cursor != nil
        return nil
    }

    /// Every object under `listPrefix`, a ListObjectsV2 page at a time; keys relative to
    /// the store. The keys are remembered (see `confirmAbsent`), up to
    /// `listedKeysRemembered` of them, so memory stays bounded whatever the listing's size.
    public func listPages(prefix listPrefix: String, _ page: ([StoreEntry]) throws -> Void) throws {
        let room = configuration.listedKeysRemembered
        try listObjects(prefix: listPrefix, delimited: false) { entries, _ in
            listed.withLock { set in for e in entries where set.count < room { set.insert(e.key) } }
            try page(entries)
        }
    }

    public func list(prefix listPrefix: String) throws -> [StoreEntry] {
        var out = [StoreEntry]()
        try listPages(prefix: listPrefix) { out += $0 }
        return out
    }

    /// What one folder holds: its objects and the names of its subfolders (ListObjectsV2
    /// with a `/` delimiter, so a folder of a million chunks is not walked for its names);
    /// nil when it holds nothing (S3 has no empty folders).
    public func listFolder(_ folder: String) throws -> FolderListing? {
        let base = folder.isEmpty ? "" : folder + "/"
        var listing = FolderListing()
        try listObjects(prefix: base, delimited: true) { entries, folders in
            listing.objects += entries.map { StoreEntry(key: String($0.key.dropFirst(base.count)), size: $0.size) }
            listing.folders += folders.map { String($0.dropFirst(base.count).dropLast()) }
        }
        return listing.objects.isEmpty && listing.folders.isEmpty ? nil : listing
    }

    /// The pages of a ListObjectsV2 answer; keys and folder prefixes relative to the store.
    private func listObjects(prefix listPrefix: String, delimited: Bool,
                             _ body: (_ objects: [StoreEntry], _ folders: [String]) throws -> Void) throws {
        let full = prefix.isEmpty ? listPrefix : prefix + "/" + listPrefix
        let strip = prefix.isEmpty ? 0 : prefix.count + 1
        let refused = try eachPage(ListPage.self, of: "the listing", key: listPrefix,
                                   tooLongHint: " (raise TESSERA_S3_MAX_LIST_PAGES if the prefix really holds that many objects)",
                                   query: { token in
            // Query parameters in canonical (sorted) order, as SigV4 signs them.
            var query = [String]()
            if let token { query.append("continuation-token=\(Self.encode(token, keepSlash: false))") }
            if delimited { query.append("delimiter=%2F") }
            query.append("list-type=2")
            if let keys = configuration.listPageSize { query.append("max-keys=\(keys)") }
            query.append("prefix=\(Self.encode(full, keepSlash: false))")
            return query.joined(separator: "&")
        }) { page in
            try body(page.entries.compactMap { e in
                e.key.count > strip || strip == 0 ? StoreEntry(key: String(e.key.dropFirst(strip)), size: e.size) : nil
            }, page.folders.compactMap { $0.count > strip ? String($0.dropFirst(strip)) : nil })
        }
        if let refused { throw failure(refused, key: listPrefix) }
    }
}
