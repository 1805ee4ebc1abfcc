import CairnCore

/// One API request, parsed and checked: what the service is asked to do.
///
/// Produced by `APIRequest.parse` from a request's method, target, headers and body (pure; see
/// `APIRequest+Parsing.swift`), so every argument here is already within the limits: keys are
/// 1…`maxKeyBytes` bytes, values at most `maxValueBytes`, `r` and `w` in `1...N`, TTLs in
/// `1...maxTTLSeconds`.
public enum APIRequest: Hashable, Sendable {
    /// `GET /v1/keys/{key}`.
    case get(key: [UInt8], r: Int?, format: ValueFormat)
    /// `PUT /v1/keys/{key}`: with `X-Cairn-Context`, it supersedes what the context covers;
    /// without, what a read quorum holds (a plain write); with `blind=true`, nothing.
    case put(key: [UInt8], value: [UInt8], ttlSeconds: Int64?, supersedes: Supersedes, w: Int?)
    /// `DELETE /v1/keys/{key}`, superseding as a PUT does.
    case delete(key: [UInt8], supersedes: Supersedes, w: Int?)
    /// `GET /v1/keys?prefix=&limit=&after=`.
    case scan(prefix: [UInt8], limit: Int, after: [UInt8]?, values: Bool)
    /// `POST /v1/keys/{key}/cas`; `nil` stands for "absent" on either side.
    case cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?)
    /// `POST /v1/keys/{key}/cas` with `"force": true`: a linearizable write of whatever is there.
    case casWrite(key: [UInt8], new: [UInt8]?)
    /// `GET /v1/keys/{key}?consistency=serial`: a linearizable read through Paxos.
    case serialGet(key: [UInt8], format: ValueFormat)
    /// `GET /v1/keys/{key}?consistency=replica`: this node's own copy, no quorum, no repair.
    case replicaGet(key: [UInt8], format: ValueFormat)

    /// The header of a replica read's answer: `primary` when the node is one of the key's N
    /// primaries in its ring, `other` when not (a fallback's hints, a former replica's copy).
    public static let replicaHeader = "Cairn-Replica"
    /// `GET /v1/cluster`.
    case clusterStatus
    /// `GET /v1/cluster/partitions`.
    case clusterPartitions
    /// `POST /v1/cluster/transfers`.
    case steerTransfers(TransferSteering)
    /// `POST /v1/cluster/antientropy`.
    case antiEntropy(AntiEntropyOrder)
    /// `POST /v1/cluster/plan`: what the staged joins and these leaves and removals (node ids
    /// or `host:port`) would move.
    case plan(leave: [String], remove: [String])
    /// `POST /v1/cluster/commit`: carry out the plan `token` names.
    case commit(token: String)
    /// `GET /` or `GET /ui`: the status page.
    case statusPage
    /// `POST /v1/cluster/leave`: `node` (an id or `host:port`) leaves, handing its partitions
    /// off first; `nil` is the node that serves the request.
    case leave(node: String?)
    /// `POST /v1/cluster/remove`: an operator removes `node` (an id or `host:port`), typically
    /// one that is down for good.
    case remove(node: String)
    /// `GET /health`.
    case health
    /// `GET /metrics`.
    case metrics

    /// How a single value is sent back.
    public enum ValueFormat: Hashable, Sendable {
        /// `{"value": ..., "context": ...}` (the default).
        case json
        /// The value's bytes as the body (`Accept: application/octet-stream`).
        case raw
    }
}

extension APIRequest {
    /// The span name of a data request (method and route), nil for the cluster, health and
    /// metrics endpoints, which are not traced.
    var tracedOperation: String? {
        switch self {
        case .get, .serialGet, .replicaGet: "GET /v1/keys/{key}"
        case .put: "PUT /v1/keys/{key}"
        case .delete: "DELETE /v1/keys/{key}"
        case .scan: "GET /v1/keys"
        case .cas, .casWrite: "POST /v1/keys/{key}/cas"
        case .clusterStatus, .clusterPartitions, .steerTransfers, .antiEntropy, .plan, .commit, .statusPage, .leave, .remove,
             .health, .metrics:
            nil
        }
    }
}
