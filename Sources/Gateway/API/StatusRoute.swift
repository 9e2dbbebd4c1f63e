import Catalog
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /api/status` and the status gauges of `/metrics` (Docs/catalog.md, "Status"): the
/// same `StatusReport` `tessera status` prints, over the gateway's configured roots.
///
/// Who may see it (`audience`, the one rule for both routes): with auth configured,
/// authenticated members of the global-access group only (the report names every group,
/// uploader, root and failed file); without auth, anyone (the gateway then serves everything
/// to everyone anyway). Other authenticated callers get `/metrics` without the series that
/// name groups or uploaders.
struct StatusRoute {
    let gateway: Gateway

    /// What of the status a caller may see.
    enum Audience: Equatable {
        /// Everything: the report, and every status series on `/metrics`.
        case everything
        /// An authenticated caller outside the global-access group: on `/metrics`, the
        /// series of roots and ingest states, not those naming groups or uploaders; no report.
        case totals
        /// Auth is on and the caller is not authenticated.
        case nobody
    }

    func audience(_ identity: AccessPolicy.Identity) -> Audience {
        guard gateway.policy.isEnabled else { return .everything }
        guard case let .member(_, groups) = identity else { return .nobody }
        return groups.contains(gateway.catalogConfiguration.resolvedGlobalAccessGroup) ? .everything : .totals
    }

    /// How old the `/metrics` status gauges may be before a scrape reads the catalogue again
    /// (a scrape every few seconds must not become a catalogue query each time).
    static let metricsMaxAge: Duration = .seconds(15)
    /// How many recent failures the API lists.
    static let failures = 50

    func answer(query: [(name: String, value: String)], method: HTTPRequest.Method,
                identity: AccessPolicy.Identity) async throws -> Response {
        switch audience(identity) {
        case .everything: break
        case .nobody:
            var response = JSONAnswer.error(.unauthorized, "credentials required", method)
            response.headers[.wwwAuthenticate] = "Bearer realm=\"tessera\""
            return response
        case .totals:
            return JSONAnswer.error(.forbidden, "the status is for members of the global-access group", method)
        }
        if let first = query.first { throw APIParameterError(parameter: first.name, message: "this route takes no parameters") }
        guard let report = try await report() else { return JSONAnswer.error(.notFound, "this catalog cannot report status", method) }
        return JSONAnswer.make(.ok, Array(try report.json(pretty: false)), method)
    }

    /// A fresh report; the gauges are set from it too. nil when the store cannot report.
    func report() async throws -> StatusReport? {
        guard let source = gateway.catalog as? any CatalogStatusSource else { return nil }
        let report = try await StatusReport.gather(source, roots: gateway.datasetAccess?.roots ?? [], failures: Self.failures,
                                                  quota: gateway.uploads.map { uploads in { uploads.configuration.quota(of: $0) } })
        gateway.metrics.setStatus(report.gauges)
        return report
    }

    /// Before a scrape: re-reads the catalogue when the gauges are older than `metricsMaxAge`.
    /// A failure keeps the previous numbers and is logged with a request id.
    func refreshMetricsIfStale() async {
        guard gateway.catalog != nil, gateway.metrics.statusIsStale(maxAge: Self.metricsMaxAge) else { return }
        do { _ = try await report() } catch { _ = gateway.errors.record("status metrics: \(error)") }
    }
}
