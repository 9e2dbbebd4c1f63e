import Catalog
import ZarrCore

/// Turns `/api/datasets` parameters into a `SearchQuery`, with the configured elements.
///
/// Stand-in until the search engine's `SearchQueryParser` (and its cursor encoding) is on
/// this branch: it accepts `limit` alone and refuses every other parameter with a 400
/// naming it, so no unvalidated value can reach a store. The route and its answers do not
/// change when the real parser replaces it.
struct SearchParameters: Sendable {
    /// The `catalog.search` section as written (`elements`, `defaultPageSize`, `maxPageSize`).
    let configuration: JSONValue?

    var elements: [JSONValue] { configuration?["elements"]?.arrayValue ?? [] }
    var defaultPageSize: Int { configuration?["defaultPageSize"]?.intValue ?? 50 }
    var maxPageSize: Int { configuration?["maxPageSize"]?.intValue ?? 500 }

    struct Parsed {
        var query: SearchQuery
    }

    func parse(_ parameters: [(name: String, value: String)]) throws(APIParameterError) -> Parsed {
        var limit = defaultPageSize
        var seen = Set<String>()
        for (name, value) in parameters {
            guard seen.insert(name).inserted else { throw APIParameterError(parameter: cut(name), message: "given more than once") }
            guard name == "limit" else { throw APIParameterError(parameter: cut(name), message: "unknown parameter") }
            guard let n = Int(value), (1...maxPageSize).contains(n) else {
                throw APIParameterError(parameter: "limit", message: "limit must be an integer in 1...\(maxPageSize)")
            }
            limit = n
        }
        return Parsed(query: SearchQuery(limit: limit))
    }

    /// The `next` cursor as the client sends it back in `after` (nil: paging not offered yet).
    func encodeCursor(_ cursor: SearchCursor) -> String? { nil }

    private func cut(_ name: String) -> String { String(name.prefix(64)) }
}
