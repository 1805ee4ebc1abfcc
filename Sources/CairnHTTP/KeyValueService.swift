import CairnCore

/// What the HTTP API needs from the node: the data operations and the node's reports.
///
/// The HTTP layer parses and checks every request (key and value sizes, `r`/`w` within
/// `1...replicationFactor`, TTL bounds, a well-formed causal context) before it calls a method
/// here, so an implementation receives only valid arguments, and renders whatever comes back.
/// The node implements this over its quorum coordinators (DESIGN.md §2); the tests implement it
/// in memory.
///
/// Errors: throw `KeyValueServiceError` for the failures clients must be told about (quorum
/// not reached, timeout, unknown outcome, sibling cap, …); each maps to a status and code in
/// docs/api.md. Any other error is answered `500 internal_error` without its text, since it may
/// name stored data.
public protocol KeyValueService: Sendable {
    /// N, the replicas per key: `r` and `w` must lie in `1...replicationFactor`.
    var replicationFactor: Int { get }

    /// Reads `key` from `r` replicas (`nil`: the cluster's default R). Tombstones and expired
    /// siblings are left out of the result; no live sibling means "absent".
    func get(key: [UInt8], r: Int?) async throws -> ReadResult

    /// Writes `value` with an optional time to live, superseding what `supersedes` says (the
    /// client's context; what a read quorum holds, for a plain write; nothing, for a blind
    /// one), acknowledged by `w` replicas (`nil`: default W). Returns the stored object's
    /// context.
    ///
    /// `ttl` is positive and at most the API's `maxTTLSeconds`; the value expires that long
    /// after the coordinating node's wall clock when it mints the write, to the millisecond
    /// (HTTP sends whole seconds, the Redis protocol's `PX` milliseconds).
    func put(key: [UInt8], value: [UInt8], ttl: Duration?, supersedes: Supersedes, w: Int?) async throws -> CausalContext

    /// Writes a tombstone superseding what `supersedes` says, acknowledged by `w` replicas.
    /// Returns the stored object's context (a plain delete of an absent key writes nothing).
    func delete(key: [UInt8], supersedes: Supersedes, w: Int?) async throws -> CausalContext

    /// Up to `limit` live keys that start with `prefix`, in byte order, each after `after` when
    /// it is given, across the whole cluster; with `values`, each key's live values and context
    /// as a GET would show them.
    func scan(prefix: [UInt8], limit: Int, after: [UInt8]?, values: Bool) async throws -> ScanPage

    /// Sets `key` to `new` (`nil`: absent) if its current value is `expected` (`nil`: absent),
    /// linearizably (DESIGN.md §2, "Compare-and-set"). An outcome that is not known (the new
    /// value was proposed and may be chosen) is `KeyValueServiceError.outcomeUnknown`.
    func cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?) async throws -> CASOutcome

    /// Sets `key` to `new` (`nil`: absent) whatever it holds, linearizably with the CAS
    /// operations on the key (`"force": true`): the way to replace siblings on a CAS key.
    func casWrite(key: [UInt8], new: [UInt8]?) async throws -> CASOutcome

    /// A linearizable read (`GET …?consistency=serial`): a Paxos round among the key's
    /// replicas that finishes any CAS in progress, then the value as a GET shows it (no context).
    func serialGet(key: [UInt8]) async throws -> ReadResult

    /// This node's own copy of `key` (`GET …?consistency=replica`): its record and any hints it
    /// holds for the key, merged, read without a quorum and without repair, tombstones and
    /// expired siblings left out as a GET does; and whether this node is one of the key's N
    /// primaries in its ring. For operators and checkers that must see each replica as it is
    /// (a quorum read repairs what it reads).
    func replicaGet(key: [UInt8]) async throws -> ReplicaReadResult

    /// The node's view of the cluster (members, ring, transfers), sent as the JSON body of
    /// `GET /v1/cluster`.
    func clusterStatus() async throws -> JSONValue

    /// Per partition: its replicas in this node's ring, whether this node holds it or waits for
    /// it, its last anti-entropy exchange here; and the hints this node holds per target. The
    /// JSON body of `GET /v1/cluster/partitions` (docs/api.md).
    func clusterPartitions() async throws -> JSONValue

    /// Steers this node's handoff for `POST /v1/cluster/transfers`: pause, resume, a new
    /// throttle, or cancel a partition's transfers. Returns the handoff settings after it
    /// (`paused`, `bytes_per_second`) and what a cancel stopped. A cancel that matches nothing
    /// throws `transferNotFound`; one on a leaving node, `membershipConflict`.
    func steerTransfers(_ steering: TransferSteering) async throws -> JSONValue

    /// Anti-entropy orders for `POST /v1/cluster/antientropy`: the sweep paused, resumed or
    /// retuned (answers `paused` and `interval_ms`); or one partition now: an exchange with
    /// each other replica this node reaches (answers the replicas), or a rebuild of this node's
    /// Merkle tree of it from its records (answers the keys and the roots before and after). A
    /// partition this node does not replicate throws `notAReplica`; an exchange when other
    /// replicas exist but none is reachable, `unavailable` (with none at all, N = 1, there is
    /// nothing to exchange: no peers).
    func antiEntropy(_ order: AntiEntropyOrder) async throws -> JSONValue

    /// What a membership change would move, for `POST /v1/cluster/plan` (docs/api.md): every
    /// staged join (`cairnd --join staged`) and the leaves and removals named (node ids or
    /// `host:port`), step by step — the rings, the partitions and keys each node gains and
    /// sends, an estimated time at the handoff throttle, the balance, whether every partition
    /// keeps N distinct replicas — and the token that commits it. An unknown node throws
    /// `nodeNotFound`; a change the members' states forbid (or nothing to do),
    /// `membershipConflict`.
    func plan(leave: [String], remove: [String]) async throws -> JSONValue

    /// Carries out the plan `token` names, for `POST /v1/cluster/commit`: one step at a time,
    /// each once the ring of the one before is in place. Returns when every step's ring is the
    /// node's (handoff goes on in the background). A token whose ring version or joins are no
    /// longer the cluster's throws `planStale`; a step whose ring does not arrive in time,
    /// `timeout` (the steps before it stay done).
    func commit(token: String) async throws -> JSONValue

    /// Starts the departure of `node` (a node id or `host:port`; `nil`: this node) for
    /// `POST /v1/cluster/leave`: it becomes `leaving`, hands its partitions off, then `left`
    /// (DESIGN.md §3, docs/membership.md). Returns once the change is recorded and gossiping,
    /// not when the handoff is done. An unknown node throws `KeyValueServiceError.nodeNotFound`;
    /// a node that has already left or was removed, `membershipConflict`.
    func leave(node: String?) async throws

    /// Removes `node` (a node id or `host:port`) for `POST /v1/cluster/remove`: the operator's
    /// verdict that a node is gone for good, so its partitions are claimed by the others
    /// (DESIGN.md §3: being down is not leaving). Returns once the change is recorded and
    /// gossiping. An unknown node throws `nodeNotFound`; removing the serving node itself or a
    /// node already removed, `membershipConflict`.
    func remove(node: String) async throws

    /// Whether this node can serve requests, for `GET /health`.
    func health() async throws -> HealthReport

    /// The node's metrics in the Prometheus text format (version 0.0.4), for `GET /metrics`.
    func metricsText() async throws -> String
}

/// An operator's order to a node's handoff (`POST /v1/cluster/transfers`).
public enum TransferSteering: Hashable, Sendable {
    case pause
    case resume
    /// Bytes per second per transfer.
    case throttle(bytesPerSecond: Int)
    /// The transfers of `partition` this node sends, to `target` (a node id or host:port) or to all.
    case cancel(partition: Int, target: String?)
}

/// An operator's anti-entropy order for one partition (`POST /v1/cluster/antientropy`).
public enum AntiEntropyOrder: Hashable, Sendable {
    case exchange(partition: Int)
    case rebuildTree(partition: Int)
    /// Pause or resume the node's anti-entropy sweep (urgent exchanges still run).
    case pause
    case resume
    /// The least time between two exchanges of the sweep.
    case interval(milliseconds: UInt64)
}

/// One node's own copy of a key and whether the node is one of the key's primaries.
public struct ReplicaReadResult: Hashable, Sendable {
    public var read: ReadResult
    public var isPrimary: Bool

    public init(read: ReadResult, isPrimary: Bool) {
        self.read = read
        self.isPrimary = isPrimary
    }
}

/// What a read found: the live siblings and the causal context that covers them.
public struct ReadResult: Hashable, Sendable {
    /// The values of the live siblings; empty when the key is absent, deleted or expired.
    ///
    /// In the object's sibling order (`DVVSet.siblings`: by actor, then by dot counter within
    /// an actor), so every node that reads the same object lists the same siblings in the same
    /// order. The last one is the sibling with the greatest dot: the one a reader that can show
    /// only one value shows (the Redis protocol's GET, docs/resp.md).
    public var siblings: [[UInt8]]
    /// The context to send with the next write of the key, which then supersedes every
    /// sibling read here. Meaningful even when `siblings` is empty (it covers the tombstones).
    public var context: CausalContext
    /// How long each live sibling has left before it expires, counted from the reading node's
    /// wall clock when it judged the siblings live, in `siblings` order; `nil` for a sibling
    /// without a time to live. Empty, or as long as `siblings`. The HTTP API does not show it;
    /// the Redis protocol's TTL and PTTL do.
    public var timesToLive: [Duration?]

    public init(siblings: [[UInt8]], context: CausalContext, timesToLive: [Duration?]? = nil) {
        precondition(
            timesToLive.map { $0.count == siblings.count } ?? true,
            "\(timesToLive?.count ?? 0) times to live for \(siblings.count) siblings")
        self.siblings = siblings
        self.context = context
        self.timesToLive = timesToLive ?? Array(repeating: nil, count: siblings.count)
    }

    /// What a read of `object` at `now` shows: its live siblings, each one's time to live from
    /// `now`, and the object's context. The node and the in-memory double both build their
    /// results here, so they agree on order and expiry.
    public init(object: DVVSet<[UInt8]>, at now: WallClockTime) {
        var values: [[UInt8]] = []
        var timesToLive: [Duration?] = []
        for dotted in object.siblings {
            guard case .value(let value) = dotted.sibling.read(at: now) else { continue }
            values.append(value)
            timesToLive.append(dotted.sibling.expiry.map { .milliseconds($0.milliseconds(since: now)) })
        }
        self.init(siblings: values, context: object.join(), timesToLive: timesToLive)
    }

    /// The result with only its last sibling (the one with the greatest dot), for a reader
    /// that shows one value; unchanged when it has none.
    public var lastSiblingOnly: ReadResult {
        guard let last = siblings.last else { return self }
        return ReadResult(siblings: [last], context: context, timesToLive: [timesToLive.last ?? nil])
    }

    /// The result for a key no replica has heard of.
    public static let absent = ReadResult(siblings: [], context: CausalContext())
}

/// One page of a prefix scan.
public struct ScanPage: Hashable, Sendable {
    /// The keys, in byte order, with what a read of each found when values were asked for.
    public var entries: [Entry]
    /// Where the next page starts (`after=`), or `nil` when the scan is complete. A page may
    /// hold fewer keys than asked (even none) and still have a `nextAfter`.
    public var nextAfter: [UInt8]?

    public struct Entry: Hashable, Sendable {
        public var key: [UInt8]
        /// The live values and context (`values=true` only).
        public var read: ReadResult?

        public init(key: [UInt8], read: ReadResult? = nil) {
            self.key = key
            self.read = read
        }
    }

    public var keys: [[UInt8]] { entries.map(\.key) }

    public init(entries: [Entry], nextAfter: [UInt8]?) {
        self.entries = entries
        self.nextAfter = nextAfter
    }

    public init(keys: [[UInt8]], nextAfter: [UInt8]?) {
        self.init(entries: keys.map { Entry(key: $0) }, nextAfter: nextAfter)
    }
}

/// How a compare-and-set ended, when it is known.
public enum CASOutcome: Hashable, Sendable {
    /// The new value is chosen.
    case applied
    /// Nothing was written: the current value (`nil`: absent) is not the expected one.
    case failed(current: [UInt8]?)
    /// Nothing was written: the key holds several live values (a write outside CAS raced
    /// one); a forced CAS replaces them.
    case siblings([[UInt8]])
}

/// Whether the node can serve requests, with particulars for operators.
public struct HealthReport: Hashable, Sendable {
    public var isHealthy: Bool
    /// Rendered as the `details` member of the health body (checks, reasons, …).
    public var details: [String: JSONValue]

    public init(isHealthy: Bool, details: [String: JSONValue] = [:]) {
        self.isHealthy = isHealthy
        self.details = details
    }
}
