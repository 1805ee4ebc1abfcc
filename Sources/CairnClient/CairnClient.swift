import CairnHTTP
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A client of one node's HTTP API (docs/api.md): reads, writes, deletes, scans, CAS and the
/// cluster admin requests, over HTTP/1.1 with kept-alive connections.
///
/// Values travel as raw bytes (`application/octet-stream` both ways where the API allows), so
/// any byte string works and costs no base64. Causal contexts are the opaque tokens of
/// `X-Cairn-Context`: take `Read.context` and hand it back to `put`/`delete` to supersede what
/// was read. Each request has one deadline, `timeout` after it starts, covering the connect and
/// the whole response.
///
/// Connections are reused: one is taken from the idle ones (or opened) for each request and put
/// back when the server keeps it alive, so concurrent callers each get their own and a
/// sequential caller reuses one. A read that fails on a reused connection the server had just
/// closed is sent once more on a new connection; nothing else is retried, since a write may
/// have been applied.
///
/// Errors are `CairnClientError` (or `CancellationError` when the calling task is cancelled).
public final class CairnClient: Sendable {
    /// The node as given, `host:port`.
    public let node: String
    /// The deadline of each request, from its start to its whole response.
    public let timeout: Duration
    /// The largest response body accepted; a larger one is `malformedResponse`.
    public let maxResponseBytes: Int

    private let address: NodeAddress
    private let group: any EventLoopGroup
    /// The local address connections leave from (nil: the system's choice).
    private let sourceAddress: String?
    /// The bearer token sent with every request (`Authorization: Bearer …`), for a node started
    /// with `--auth-file`.
    private let token: String?
    /// TLS to the node (`CairnTLS.ClientTLS.context(trusting:)`), or nil for plain HTTP.
    private let tls: NIOSSLContext?
    private let idle = Mutex<[HTTPConnection]>([])
    /// Idle connections kept for reuse; more are closed when they come back.
    private let maxIdleConnections: Int

    /// The most response-header bytes accepted: a context token of the server's largest (base64
    /// of 64 KiB) plus the rest of the head.
    static let maxHeaderBytes = 96 << 10

    /// A client of the node at `node` (`host:port`, `[v6]:port`). Connects lazily.
    ///
    /// `maxResponseBytes` bounds what one response may hold: by default enough for siblings of
    /// maximal values. Throws `invalidArgument` when `node` is not `host:port` or a bound is
    /// not positive.
    public init(
        node: String, timeout: Duration = .seconds(10), maxResponseBytes: Int = 160 << 20, maxIdleConnections: Int = 4,
        sourceAddress: String? = nil, token: String? = nil, tls: NIOSSLContext? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(CairnClientError) {
        if let token, token.isEmpty || token.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) {
            throw .invalidArgument("the token must be one word without spaces or line breaks")
        }
        guard let address = NodeAddress(parsing: node) else {
            throw .invalidArgument("node '\(node)' is not host:port (for example 127.0.0.1:7080 or [::1]:7080)")
        }
        guard timeout > .zero else { throw .invalidArgument("the timeout must be positive, got \(timeout)") }
        guard maxResponseBytes > 0, maxIdleConnections >= 0 else {
            throw .invalidArgument("maxResponseBytes must be positive and maxIdleConnections not negative")
        }
        self.node = address.description
        self.address = address
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.maxIdleConnections = maxIdleConnections
        self.group = group
        self.sourceAddress = sourceAddress
        self.token = token
        self.tls = tls
    }

    deinit {
        for connection in idle.withLock({ $0 }) { connection.close() }
    }

    /// Closes the idle connections. Requests still in flight finish on their own connections,
    /// which are closed when they come back.
    public func close() {
        let connections = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle
        }
        for connection in connections { connection.close() }
    }

    // MARK: Data

    /// Reads `key` from `r` replicas (`nil`: the cluster's R). An absent, deleted or expired
    /// key is a `Read` with no siblings, not an error.
    public func get(key: [UInt8], r: Int? = nil) async throws -> Read {
        try await perform(.get(key: key, r: r)).read()
    }

    /// A linearizable read through Paxos (`?consistency=serial`): the value every CAS applied
    /// before it began, or a later one. No context.
    public func serialGet(key: [UInt8]) async throws -> Read {
        try await perform(.get(key: key, r: nil, consistency: "serial")).read()
    }

    /// The node's own copy of `key` (`?consistency=replica`): no quorum, no read repair; and
    /// whether the node is one of the key's primaries. What a checker of convergence reads.
    public func replicaGet(key: [UInt8]) async throws -> ReplicaRead {
        let response = try await perform(.get(key: key, r: nil, consistency: "replica"))
        return ReplicaRead(read: try response.read(), isPrimary: response.header("Cairn-Replica") == "primary")
    }

    /// Writes `value` (any bytes) with an optional time to live, acknowledged by `w` replicas.
    /// It supersedes what `context` covers; without a context, what a read quorum holds when
    /// the write begins (a plain write: the key then holds this value, unless a write raced
    /// it); with `blind`, nothing (a new sibling beside whatever is stored). Returns the
    /// context of the stored object, for the next write of a read-modify-write loop.
    @discardableResult
    public func put(key: [UInt8], value: [UInt8], ttlSeconds: Int64? = nil, context: String? = nil, blind: Bool = false, w: Int? = nil)
        async throws -> String?
    {
        try await perform(.put(key: key, value: value, ttlSeconds: ttlSeconds, context: context, blind: blind, w: w)).writtenContext()
    }

    /// Deletes what `context` covers; without one, what a read quorum holds when the delete
    /// begins (values written concurrently stay). Returns the tombstone's context.
    @discardableResult
    public func delete(key: [UInt8], context: String? = nil, w: Int? = nil) async throws -> String? {
        try await perform(.delete(key: key, context: context, w: w)).writtenContext()
    }

    /// One page of keys starting with `prefix`, after `after` (a previous page's `next`);
    /// `limit` per page (`nil`: the node's default, 100).
    public func scan(prefix: [UInt8] = [], limit: Int? = nil, after: [UInt8]? = nil, values: Bool = false) async throws -> KeyPage {
        try await perform(.scan(prefix: prefix, limit: limit, after: after, values: values)).keyPage()
    }

    /// Sets `key` to `new` (`nil`: delete) if its value is `expected` (`nil`: absent).
    /// An unknown outcome is thrown as `.http(status: 504, code: "outcome_unknown", …)`.
    public func cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?) async throws -> CASResult {
        try await perform(.cas(key: key, expected: expected, new: new)).casResult()
    }

    /// Sets `key` to `new` (`nil`: delete) whatever it holds, linearizably with the CAS
    /// operations of the key (`"force": true`): what replaces siblings on a CAS key.
    public func casForce(key: [UInt8], new: [UInt8]?) async throws -> CASResult {
        try await perform(.cas(key: key, expected: nil, new: new, force: true)).casResult()
    }

    // MARK: Cluster

    /// The node's view of the cluster: the JSON it sent, and its parts picked out.
    public func clusterStatus() async throws -> ClusterStatus {
        try await perform(.clusterStatus).clusterStatus()
    }

    /// Whether the node says it can serve (an unhealthy node is a result, not an error).
    public func health() async throws -> Health {
        try await perform(.health).health()
    }

    /// Asks `node` (id or `host:port`; `nil`: the node this client talks to) to leave: it
    /// hands its partitions off, then leaves. Returns once the change is recorded.
    public func leave(node: String? = nil) async throws {
        try await perform(.leave(node: node)).written()
    }

    /// Removes `node` (id or `host:port`), a node that is gone for good.
    public func remove(node: String) async throws {
        try await perform(.remove(node: node)).written()
    }

    /// The node's handoff after a steering order (`POST /v1/cluster/transfers`).
    public struct HandoffSteering: Hashable, Sendable {
        public var paused: Bool
        public var bytesPerSecond: Int
        /// Transfers a cancel stopped.
        public var cancelled: Int?
    }

    /// Pauses the transfers the node sends (running ones stop after the batch in flight).
    public func pauseTransfers() async throws -> HandoffSteering { try await steer(["action": "pause"]) }

    /// Resumes them, each after its last acknowledged batch.
    public func resumeTransfers() async throws -> HandoffSteering { try await steer(["action": "resume"]) }

    /// Sets the handoff throttle, bytes per second per transfer.
    public func throttleTransfers(bytesPerSecond: Int) async throws -> HandoffSteering {
        try await steer(["action": "throttle", "bytes_per_second": .integer(Int64(bytesPerSecond))])
    }

    /// Cancels the node's transfers of `partition` (to `target`, id or `host:port`, or to all).
    public func cancelTransfers(partition: Int, to target: String? = nil) async throws -> HandoffSteering {
        var body: [String: JSONValue] = ["action": "cancel", "partition": .integer(Int64(partition))]
        if let target { body["to"] = .string(target) }
        return try await steer(body)
    }

    /// Anti-entropy of `partition` now on the node: `exchange` with each other replica it
    /// reaches, or `rebuild_tree` (its Merkle tree rebuilt from its records). The node's answer.
    public func antiEntropy(_ action: String, partition: Int) async throws -> JSONValue {
        let response = try await perform(.antiEntropy(action: action, partition: partition))
        guard response.isSuccess else { throw response.apiError() }
        return try response.json("an anti-entropy answer")
    }

    /// What the node's staged joins and these leaves and removals (ids or `host:port`) would
    /// move, and the token that commits it (`POST /v1/cluster/plan`, docs/api.md).
    public func plan(leave: [String] = [], remove: [String] = []) async throws -> JSONValue {
        let response = try await perform(.plan(leave: leave, remove: remove))
        guard response.isSuccess else { throw response.apiError() }
        return try response.json("a plan")
    }

    /// Carries out the plan `token` names, step by step; returns once every step's ring is in
    /// place (`POST /v1/cluster/commit`). Give the client a timeout of a few seconds per step.
    public func commit(plan token: String) async throws -> JSONValue {
        let response = try await perform(.commit(plan: token))
        guard response.isSuccess else { throw response.apiError() }
        return try response.json("a commit answer")
    }

    /// Steers the node's anti-entropy sweep: `pause`, `resume`, or `interval` with the least
    /// milliseconds between two exchanges. The node's answer (`paused`, `interval_ms`).
    public func steerAntiEntropy(_ action: String, intervalMilliseconds: Int? = nil) async throws -> JSONValue {
        var body: [String: JSONValue] = ["action": .string(action)]
        if let intervalMilliseconds { body["interval_ms"] = .integer(Int64(intervalMilliseconds)) }
        let response = try await perform(.antiEntropySteering(body))
        guard response.isSuccess else { throw response.apiError() }
        return try response.json("an anti-entropy answer")
    }

    func steer(_ body: [String: JSONValue]) async throws -> HandoffSteering {
        let response = try await perform(.transfers(body))
        guard response.isSuccess else { throw response.apiError() }
        let object = try response.json("a handoff steering answer")
        guard case .bool(let paused)? = object["paused"], case .integer(let rate)? = object["bytes_per_second"] else {
            throw CairnClientError.malformedResponse("a handoff steering answer without paused and bytes_per_second")
        }
        var cancelled: Int?
        if case .integer(let count)? = object["cancelled"] { cancelled = Int(count) }
        return HandoffSteering(paused: paused, bytesPerSecond: Int(rate), cancelled: cancelled)
    }

    // MARK: Connections

    /// Sends `request` on an idle or new connection, within one deadline.
    func perform(_ request: ClientRequest) async throws -> ClientResponse {
        var request = request
        if let token { request.headers.append(ClientRequest.Header(name: "Authorization", value: "Bearer \(token)")) }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        if let connection = takeIdle() {
            do {
                return try await exchange(request, on: connection, deadline: deadline)
            } catch CairnClientError.connectionLost(_, _) where request.isIdempotent {
                // The server may have closed the idle connection as the request went out.
            }
        }
        let remaining = deadline - NIODeadline.now()
        guard remaining > .zero else { throw CairnClientError.timedOut(node: node, after: timeout) }
        let connection = try await HTTPConnection.connect(
            to: address, from: sourceAddress, group: group, connectTimeout: Duration(remaining), maxResponseBytes: maxResponseBytes,
            maxHeaderBytes: Self.maxHeaderBytes, tls: tls)
        return try await exchange(request, on: connection, deadline: deadline)
    }

    private func exchange(_ request: ClientRequest, on connection: HTTPConnection, deadline: NIODeadline) async throws
        -> ClientResponse
    {
        let received = try await connection.send(request, deadline: deadline, timeout: timeout)
        if received.isReusable { putIdle(connection) }
        return received.response
    }

    /// The local ports of the idle connections, for tests that check reuse.
    var idleLocalPorts: [Int] {
        idle.withLock { $0.compactMap { $0.channel.localAddress?.port } }
    }

    private func takeIdle() -> HTTPConnection? {
        let (usable, stale) = idle.withLock { idle -> (HTTPConnection?, [HTTPConnection]) in
            var stale: [HTTPConnection] = []
            while let connection = idle.popLast() {
                if connection.isActive { return (connection, stale) }
                stale.append(connection)
            }
            return (nil, stale)
        }
        for connection in stale { connection.close() }
        return usable
    }

    private func putIdle(_ connection: HTTPConnection) {
        let kept = idle.withLock { idle in
            guard idle.count < maxIdleConnections else { return false }
            idle.append(connection)
            return true
        }
        if !kept { connection.close() }
    }
}

extension Duration {
    init(_ amount: TimeAmount) {
        self = .nanoseconds(amount.nanoseconds)
    }
}
