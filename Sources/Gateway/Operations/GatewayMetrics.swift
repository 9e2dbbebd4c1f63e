import Catalog
import Prometheus
import NIOConcurrencyHelpers

/// The gateway's Prometheus series: requests by method, status and root; bytes sent;
/// request latency as a histogram. Exposed at `/metrics`.
final class GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The status series that name owner groups or uploaders, exposed only to the callers
    /// who may read `/api/status` (`StatusRoute.audience`).
    private let namedRegistry = PrometheusCollectorRegistry()
    private let latency: DurationHistogram
    private let bytesSent: Counter
    private let inFlight: Gauge
    private let generations: Counter
    /// `tessera_render_cache_total{result}`: hit, miss, stored.
    private let renderCacheResults: [String: Counter]
    /// `tessera_background_cache_total{result}`: hit, miss (`subtract=`'s computed backgrounds).
    private let backgroundCacheResults: [Bool: Counter]
    /// Counters already registered, by method, status and root (the registry's own
    /// lookup builds a label array per call; this keeps the hot path to one probe).
    /// A pthread lock, not Synchronization.Mutex: that one asks the kernel for the thread
    /// id (gettid) on every lock, a system call per request.
    private let requests = NIOLockedValueBox<[RequestKey: Counter]>([:])

    /// The catalogue status gauges (`StatusReport.gauges`) and when they were last set.
    private let status = NIOLockedValueBox<StatusSeries>(StatusSeries())

    private struct StatusSeries {
        var refreshed: ContinuousClock.Instant?
        var gauges: [StatusKey: (gauge: Gauge, named: Bool)] = [:]
    }

    private struct StatusKey: Hashable {
        let name: String
        let labels: [String]
    }

    private struct RequestKey: Hashable {
        let method: String
        let status: Int
        let root: String
    }

    init() {
        latency = registry.makeDurationHistogram(
            descriptor: .init(namespace: "tessera", metricName: "http_request_duration", unitName: "seconds",
                              helpText: "Time from request head to response head"),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(5)]
        )
        bytesSent = registry.makeCounter(descriptor: .init(namespace: "tessera", metricName: "http_response_body", unitName: "bytes",
                                                           helpText: "Response body bytes sent (declared Content-Length)"))
        generations = registry.makeCounter(descriptor: .init(namespace: "tessera", metricName: "consolidated_generations", unitName: "total",
                                                             helpText: "Consolidated-metadata documents generated (walks of a hierarchy)"))
        let registry = self.registry
        renderCacheResults = Dictionary(uniqueKeysWithValues: ["hit", "miss", "stored"].map { result in
            (result, registry.makeCounter(descriptor: .init(namespace: "tessera", metricName: "render_cache", unitName: "total",
                                                            helpText: "Thumbnail and quicklook disk-cache lookups and stores"),
                                          labels: [("result", result)]))
        })
        backgroundCacheResults = Dictionary(uniqueKeysWithValues: [true, false].map { hit in
            (hit, registry.makeCounter(descriptor: .init(namespace: "tessera", metricName: "background_cache", unitName: "total",
                                                         helpText: "Computed backgrounds (subtract=) found in memory or computed"),
                                       labels: [("result", hit ? "hit" : "miss")]))
        })
        inFlight = registry.makeGauge(descriptor: .init(namespace: "tessera", metricName: "http_requests_in_flight", unitName: "count",
                                                        helpText: "Requests being answered"))
    }

    /// A request the responder has begun (the fast path answers within one call on the
    /// event loop, so its requests are never in flight as far as a scrape can tell).
    func generatedDocument() { generations.increment() }

    func renderCache(_ result: String) { renderCacheResults[result]?.increment() }

    func backgroundCache(hit: Bool) { backgroundCacheResults[hit]?.increment() }

    func started() { inFlight.increment() }
    func ended() { inFlight.decrement() }

    func finished(method: String, status: Int, root: String, bytes: Int, duration: Duration) {
        let key = RequestKey(method: method, status: status, root: root)
        let counter = requests.withLockedValue { cache in
            if let c = cache[key] { return c }
            let c = registry.makeCounter(
                descriptor: .init(namespace: "tessera", metricName: "http_requests", unitName: "total", helpText: "Requests answered"),
                labels: [("method", method), ("status", String(status)), ("root", root)]
            )
            cache[key] = c
            return c
        }
        counter.increment()
        if bytes > 0 { bytesSent.increment(by: Int64(bytes)) }
        latency.record(duration)
    }

    /// The series as Prometheus text; those naming groups and uploaders only `withNames`.
    func exposition(withNames: Bool) -> [UInt8] {
        var out = registry.emitToBuffer()
        if withNames { out += namedRegistry.emitToBuffer() }
        return out
    }

    /// Whether the status gauges were never set or were set longer than `maxAge` ago.
    func statusIsStale(maxAge: Duration) -> Bool {
        status.withLockedValue { s in s.refreshed.map { ContinuousClock.now - $0 > maxAge } ?? true }
    }

    /// Sets the status gauges to a new report's numbers; a series the report no longer has
    /// (a group whose last dataset went) is removed, not left at its old value.
    func setStatus(_ gauges: [StatusGauge]) {
        let registry = self.registry, namedRegistry = self.namedRegistry
        status.withLockedValue { s in
            var kept = [StatusKey: (gauge: Gauge, named: Bool)]()
            for g in gauges {
                let key = StatusKey(name: g.name, labels: g.labels.flatMap { [$0.0, $0.1] })
                let named = g.namesGroupsOrUsers
                let series = s.gauges[key]
                    ?? ((named ? namedRegistry : registry).makeGauge(name: g.name, labels: g.labels, help: g.help), named)
                series.gauge.set(g.value)
                kept[key] = series
            }
            for (key, series) in s.gauges where kept[key] == nil {
                (series.named ? namedRegistry : registry).unregisterGauge(series.gauge)
            }
            s.gauges = kept
            s.refreshed = .now
        }
    }
}
