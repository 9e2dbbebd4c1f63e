import Catalog
import Foundation
import HTTPTypes
import Hummingbird
import ZarrCore

/// The catalogue's JSON API under `/api` (Docs/catalog.md, "API and access";
/// Specs/openapi.yaml):
/// - `GET /api/datasets?…` one page of the datasets matching a search that the caller may see;
/// - `GET /api/datasets/{id}` one dataset's summary;
/// - `GET /api/datasets/{id}/metadata` its harvested metadata;
/// - `GET /api/search/elements` the configured search elements, with the values of select
///   elements among the datasets the caller may see;
/// - `GET /api/status` the facility's numbers (`StatusRoute`; global-access members only).
/// A dataset the caller may not see is answered exactly like a missing one (404). A store
/// failure is a 502 (503 when the store is unreachable) naming a request id; the store's
/// message goes to the server's log only.
struct APIRoutes {
    let gateway: Gateway

    func answer(_ path: String, query: [(name: String, value: String)], method: HTTPRequest.Method,
                identity: AccessPolicy.Identity) async -> Response {
        guard let catalog = gateway.catalog else { return JSONAnswer.error(.notFound, "no catalog is configured", method) }
        if identity == .refused { return unauthorized(method) }
        let viewer = gateway.viewer(identity)
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        do {
            switch segments.count {
            case 1 where segments[0] == "datasets":
                return try await search(catalog, query: query, viewer: viewer, method)
            case 2 where segments[0] == "datasets":
                try refuseParameters(query)
                guard let record = try await catalog.dataset(uid: segments[1], visibleTo: viewer) else { return missing(method) }
                return JSONAnswer.ok(summary(record, viewer), method)
            case 3 where segments[0] == "datasets" && segments[2] == "metadata":
                try refuseParameters(query)
                guard let document = try await catalog.metadataDocument(uid: segments[1], visibleTo: viewer) else { return missing(method) }
                return JSONAnswer.ok(document, method)
            case 1 where segments[0] == "status":
                return try await StatusRoute(gateway: gateway).answer(query: query, method: method, identity: identity)
            case 2 where segments == ["search", "elements"]:
                try refuseParameters(query)
                return JSONAnswer.ok(try await elements(catalog, viewer: viewer), method)
            default:
                return missing(method)
            }
        } catch let refusal as APIParameterError {
            return JSONAnswer.error(.badRequest, refusal.message, parameter: refusal.parameter, method)
        } catch {
            let id = gateway.errors.record("catalog: \(error)")
            let unreachable: Bool = if case CatalogError.unreachable = error { true } else { false }
            var response = JSONAnswer.error(unreachable ? .serviceUnavailable : .badGateway,
                                            "catalog error; request id \(id)", method)
            response.headers[.xRequestID] = id
            if unreachable { response.headers[.retryAfter] = "1" }
            return response
        }
    }

    /// `GET /api/datasets`: the parameters are validated by `SearchQueryParser` (a 400 naming
    /// the parameter otherwise); the page's `next` is the cursor to pass back as `after`.
    private func search(_ catalog: any CatalogStore, query: [(name: String, value: String)], viewer: Viewer,
                        _ method: HTTPRequest.Method) async throws -> Response {
        let parsed = try gateway.searchParser.parse(query)
        let page = try await catalog.search(parsed, visibleTo: viewer)
        return JSONAnswer.ok(.object([
            "datasets": .array(page.datasets.map { summary($0, viewer) }),
            "next": page.next.map { .string($0.encoded) } ?? .null,
            "limit": .int(Int64(parsed.limit)),
        ]), method)
    }

    private func summary(_ record: DatasetRecord, _ viewer: Viewer) -> JSONValue {
        let served = gateway.datasetAccess?.index.served[record.uid]
        return DatasetSummary.json(record, viewer: viewer, served: served.map { ($0.root, $0.prefix) })
    }

    /// The configured elements, each select element with its `values` among the datasets
    /// the caller may see (values of hidden datasets never appear).
    private func elements(_ catalog: any CatalogStore, viewer: Viewer) async throws -> JSONValue {
        var out = [JSONValue]()
        for element in gateway.searchParser.elements {
            var fields = try JSONValue.parse(Array(JSONEncoder().encode(element)), key: "search element").objectValue ?? [:]
            if element.kind == .select {
                let values = try await catalog.distinctValues(keys: element.keys, column: element.column, visibleTo: viewer,
                                                              limit: max(1, element.maxValues))
                fields["values"] = .array(values.map { .string($0) })
            }
            out.append(.object(fields))
        }
        return .object(["elements": .array(out)])
    }

    private func refuseParameters(_ query: [(name: String, value: String)]) throws {
        if let first = query.first { throw APIParameterError(parameter: first.name, message: "this route takes no parameters") }
    }

    private func missing(_ method: HTTPRequest.Method) -> Response { JSONAnswer.error(.notFound, "not found", method) }

    private func unauthorized(_ method: HTTPRequest.Method) -> Response {
        var response = JSONAnswer.error(.unauthorized, "credentials refused", method)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"tessera\""
        return response
    }
}

/// A request parameter the API refuses: 400 `{"error": message, "parameter": name}`.
struct APIParameterError: Error, Equatable {
    var parameter: String?
    var message: String
}
