import CoreMetrics
import Synchronization

/// The cap on client requests a server serves at once, shared by all its connections.
///
/// A data request (GET, PUT, DELETE, scan, CAS) holds a slot from the moment it is handed to
/// the service until its response has been written to the socket; one that finds every slot
/// taken is answered `503 overloaded` with `Retry-After` at once and never reaches the service.
/// `/health`, `/metrics` and the `/v1/cluster` endpoints take no slot, so an operator can still
/// watch and steer a node that is saturated (see `APIRequest.takesInFlightSlot`).
///
/// The request path touches one atomic counter; shedding also bumps a metrics counter.
final class InFlightLimit: Sendable {
    /// Seconds a refused client is told to wait (`Retry-After`).
    static let retryAfterSeconds = 1

    /// The most requests served at once.
    let limit: Int
    private let count = Atomic<Int>(0)
    /// Requests answered `overloaded` since the server started (`cairn_http_requests_shed_total`).
    private let shed = Counter(label: "cairn_http_requests_shed_total")
    /// Slots taken now, recorded when `/metrics` is scraped (`cairn_http_requests_in_flight`).
    private let gauge = Gauge(label: "cairn_http_requests_in_flight")
    /// The answer to a request beyond the cap, rendered once.
    let overloadedResponse: APIResponse

    init(limit: Int) {
        precondition(limit >= 1, "the in-flight limit must be at least 1, got \(limit)")
        self.limit = limit
        self.overloadedResponse = .failure(
            KeyValueServiceError(
                .overloaded, "the node is serving its limit of \(limit) requests at once; retry later",
                limit: limit, retryAfterSeconds: Self.retryAfterSeconds))
    }

    /// Slots taken now.
    var current: Int { count.load(ordering: .relaxed) }

    /// Takes a slot if one is free; `false` (and the shed counter bumped) when all are taken.
    func acquire() -> Bool {
        var taken = count.load(ordering: .relaxed)
        while taken < limit {
            let (exchanged, original) = count.compareExchange(
                expected: taken, desired: taken + 1, ordering: .relaxed)
            if exchanged { return true }
            taken = original
        }
        shed.increment()
        return false
    }

    /// Gives back a slot taken by `acquire`.
    func release() {
        let before = count.subtract(1, ordering: .relaxed).oldValue
        assert(before > 0, "an in-flight slot released twice")
    }

    /// Records the slots taken now in the gauge (at scrape, like the node's gauges).
    func recordGauge() {
        gauge.record(current)
    }
}

extension APIRequest {
    /// Whether the request counts toward the server's in-flight cap: the data operations do;
    /// health, metrics and cluster administration do not, so that a saturated node can still be
    /// probed, scraped, inspected and told to leave. They are cheap and, like every request, at
    /// most one per connection at a time.
    var takesInFlightSlot: Bool {
        switch self {
        case .get, .put, .delete, .scan, .cas, .casWrite, .serialGet, .replicaGet: true
        case .clusterStatus, .clusterPartitions, .statusPage, .steerTransfers, .antiEntropy, .plan, .commit, .leave, .remove, .health, .metrics: false
        }
    }
}
