import Catalog
import Testing

/// Every dataset uid a search answers, page after page through its `next` cursor, as a
/// client would walk it (at most 100 pages: more is recorded as an issue).
func allPages(_ store: any CatalogStore, parser: SearchQueryParser, _ params: [(name: String, value: String)],
              pageSize: Int) async throws -> [String] {
    var uids = [String](), after: String?
    for _ in 0..<100 {
        var query = params + [(name: "limit", value: String(pageSize))]
        if let after { query.append((name: "after", value: after)) }
        let page = try await store.search(try parser.parse(query), visibleTo: .everyone)
        uids += page.datasets.map(\.uid)
        guard let next = page.next else { return uids }
        after = next.encoded
    }
    Issue.record("more than 100 pages for \(params)")
    return uids
}
