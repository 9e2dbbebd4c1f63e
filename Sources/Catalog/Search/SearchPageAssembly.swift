extension SearchPage {
    /// The page from the rows a `SQLBuilder.search` statement returned (up to `limit + 1`):
    /// the first `limit`, and a cursor after the last of them when one more row came back.
    public static func assemble(_ records: [DatasetRecord], for query: SearchQuery) -> SearchPage {
        guard records.count > query.limit else { return SearchPage(datasets: records, next: nil) }
        let page = Array(records.prefix(query.limit))
        guard let last = page.last, let id = last.id else { return SearchPage(datasets: page, next: nil) }
        let value: SearchCursor.SortValue = switch query.sort {
        case .id: .none
        case .name: .text(last.name)
        case .observed: .number(last.observed ?? SQLBuilder.unknownObservedSortValue)
        }
        return SearchPage(datasets: page, next: SearchCursor(sortValue: value, id: id, queryHash: QueryHash.of(query)))
    }
}
