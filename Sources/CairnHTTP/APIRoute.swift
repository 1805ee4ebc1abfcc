import NIOHTTP1

/// The endpoint a request path names, before its method, parameters and body are looked at.
enum APIRoute: Hashable {
    case health
    case metrics
    /// `/` and `/ui`: the status page (HTML; it polls the JSON endpoints).
    case statusPage
    case cluster
    /// `/v1/cluster/partitions`: per-partition replicas, anti-entropy and hints.
    case clusterPartitions
    /// `/v1/cluster/transfers`: pause, resume, retune or cancel handoff.
    case clusterTransfers
    /// `/v1/cluster/antientropy`: an exchange or a tree rebuild for one partition now.
    case clusterAntiEntropy
    /// `/v1/cluster/leave`.
    case clusterLeave
    /// `/v1/cluster/plan`: what a membership change would move.
    case clusterPlan
    /// `/v1/cluster/commit`: carry a plan out.
    case clusterCommit
    /// `/v1/cluster/remove`.
    case clusterRemove
    /// `/v1/keys`.
    case keys
    /// `/v1/keys/{key}`, with the key segment still percent-encoded.
    case key(ArraySlice<UInt8>)
    /// `/v1/keys/{key}/cas`.
    case cas(ArraySlice<UInt8>)

    private static let keysPrefix = Array("/v1/keys/".utf8)

    /// The route of `path` (the request target up to `?`), `nil` for no endpoint.
    ///
    /// A key is one path segment: a `/` inside a key travels as `%2F`, so `/v1/keys/a/cas` is
    /// the CAS endpoint of key `a` and `/v1/keys/a/b` names nothing.
    init?(path: ArraySlice<UInt8>) {
        switch Array(path) {
        case Array("/health".utf8): self = .health
        case Array("/metrics".utf8): self = .metrics
        case Array("/".utf8), Array("/ui".utf8): self = .statusPage
        case Array("/v1/cluster".utf8): self = .cluster
        case Array("/v1/cluster/partitions".utf8): self = .clusterPartitions
        case Array("/v1/cluster/transfers".utf8): self = .clusterTransfers
        case Array("/v1/cluster/antientropy".utf8): self = .clusterAntiEntropy
        case Array("/v1/cluster/leave".utf8): self = .clusterLeave
        case Array("/v1/cluster/plan".utf8): self = .clusterPlan
        case Array("/v1/cluster/commit".utf8): self = .clusterCommit
        case Array("/v1/cluster/remove".utf8): self = .clusterRemove
        case Array("/v1/keys".utf8): self = .keys
        default:
            guard path.starts(with: Self.keysPrefix) else { return nil }
            let rest = path.dropFirst(Self.keysPrefix.count)
            let segments = rest.split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false)
            switch segments.count {
            case 1: self = .key(segments[0])
            case 2 where Array(segments[1]) == Array("cas".utf8): self = .cas(segments[0])
            default: return nil
            }
        }
    }

    /// The methods the endpoint answers, in the order `Allow` lists them.
    var allowedMethods: [HTTPMethod] {
        switch self {
        case .health, .metrics, .statusPage, .cluster, .clusterPartitions, .keys: [.GET]
        case .key: [.GET, .PUT, .DELETE]
        case .cas, .clusterLeave, .clusterRemove, .clusterTransfers, .clusterAntiEntropy, .clusterPlan, .clusterCommit: [.POST]
        }
    }

    /// The endpoint as docs/api.md writes it, for messages.
    var pattern: String {
        switch self {
        case .health: "/health"
        case .metrics: "/metrics"
        case .statusPage: "/ui"
        case .cluster: "/v1/cluster"
        case .clusterPartitions: "/v1/cluster/partitions"
        case .clusterTransfers: "/v1/cluster/transfers"
        case .clusterAntiEntropy: "/v1/cluster/antientropy"
        case .clusterLeave: "/v1/cluster/leave"
        case .clusterPlan: "/v1/cluster/plan"
        case .clusterCommit: "/v1/cluster/commit"
        case .clusterRemove: "/v1/cluster/remove"
        case .keys: "/v1/keys"
        case .key: "/v1/keys/{key}"
        case .cas: "/v1/keys/{key}/cas"
        }
    }

    /// The query parameters `method` takes on this endpoint.
    func parameters(for method: HTTPMethod) -> Set<String> {
        switch (self, method) {
        case (.key, .GET): ["r", "consistency"]
        case (.key, .PUT): ["w", "ttl", "blind"]
        case (.key, .DELETE): ["w"]
        case (.keys, .GET): ["prefix", "limit", "after", "values"]
        default: []
        }
    }
}
