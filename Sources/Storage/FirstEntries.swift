/// Thrown by a page handler to stop a listing once it has seen enough.
private struct EnoughListed: Error {}

extension Store {
    /// Up to `limit` objects under `prefix`, from the first page of a listing — how a
    /// command asks "is anything there?" of a prefix that may hold millions of objects
    /// without listing them all (one request on S3).
    public func firstEntries(prefix: String, limit: Int) throws -> [StoreEntry] {
        var found = [StoreEntry]()
        guard limit > 0 else { return found }
        do {
            try listPages(prefix: prefix) { page in
                found += page.prefix(limit - found.count)
                if found.count >= limit { throw EnoughListed() }
            }
        } catch is EnoughListed {}
        return found
    }

    /// Whether any object lies under `prefix`.
    public func holdsObjects(prefix: String) throws -> Bool {
        try !firstEntries(prefix: prefix, limit: 1).isEmpty
    }
}
