import CairnCore
import CairnHTTP

/// A test double of the node for the HTTP layer and its clients: one replica in memory,
/// versioned with CairnCore's `DVVSet` so contexts, siblings, tombstones and expiry behave as
/// the node's will. No quorums and no replication. CAS compares and sets the one
/// replica.
/// Membership is a list of members whose status `leave` and `remove` change. Failures can be
/// injected per operation, and reads of keys starting with "slow" take `slowReadDelay`, to test
/// response order on pipelined connections and client timeouts. Reads of keys starting with
/// "held" wait until `releaseHeldReads()`, to keep requests in flight for as long as a test
/// needs without depending on how long anything takes.
///
/// Shared by CairnHTTPTests and CairnClientTests (a test-only target, not a product).
public actor InMemoryKeyValueService: KeyValueService {
    /// One member as the double reports it in `clusterStatus`.
    public struct Member: Hashable, Sendable {
        public var node: String
        public var address: String
        public var status: String
        public var reachable: Bool
        public var partitions: Int

        public init(node: String, address: String, status: String = "valid", reachable: Bool = true, partitions: Int) {
            self.node = node
            self.address = address
            self.status = status
            self.reachable = reachable
            self.partitions = partitions
        }
    }

    public nonisolated let replicationFactor: Int
    private let actorID = ReplicaActor(node: NodeID(high: 0, low: 1))
    private let siblingLimit: Int
    private let slowReadDelay: Duration
    private var objects: [[UInt8]: DVVSet<[UInt8]>] = [:]
    private var handoffPaused = false
    private var handoffBytesPerSecond = 8 << 20
    /// The members; the first is the node serving requests.
    public private(set) var members: [Member]
    private let transfers: [JSONValue]
    /// Milliseconds since 1970 as this double's clock; tests move it.
    public private(set) var now = WallClockTime(millisecondsSince1970: 1_700_000_000_000)
    /// The error the next call of the named operation throws, once.
    private var injected: [String: any Error] = [:]
    /// What each call received, in order, for tests that check the arguments.
    public private(set) var calls: [String] = []
    /// Reads of "held…" keys waiting for `releaseHeldReads()`.
    private var heldReads: [CheckedContinuation<Void, Never>] = []
    private var heldReadsReleased = false

    public init(
        replicationFactor: Int = 3, siblingLimit: Int = 4,
        slowReadDelay: Duration = .milliseconds(100), members: [Member]? = nil, transfers: [JSONValue] = []
    ) {
        self.replicationFactor = replicationFactor
        self.siblingLimit = siblingLimit
        self.slowReadDelay = slowReadDelay
        let members = members ?? [Member(node: NodeID(high: 0, low: 1).description, address: "127.0.0.1:7080", partitions: 64)]
        precondition(!members.isEmpty, "the double needs at least the serving member")
        self.members = members
        self.transfers = transfers
    }

    public func advance(milliseconds: UInt64) { now = now + milliseconds }

    public func failNext(_ operation: String, with error: any Error) { injected[operation] = error }

    /// Reads of "held…" keys waiting now.
    public var heldReadsWaiting: Int { heldReads.count }

    /// Lets every waiting read of a "held…" key go on, and every later one pass at once.
    public func releaseHeldReads() {
        heldReadsReleased = true
        for read in heldReads { read.resume() }
        heldReads = []
    }

    private func record(_ operation: String, _ detail: String = "") throws {
        calls.append(detail.isEmpty ? operation : "\(operation) \(detail)")
        if let error = injected.removeValue(forKey: operation) { throw error }
    }

    public func get(key: [UInt8], r: Int?) async throws -> ReadResult {
        try record("get", "r=\(r.map(String.init) ?? "-")")
        if key.starts(with: Array("slow".utf8)) { try await Task.sleep(for: slowReadDelay) }
        if key.starts(with: Array("held".utf8)), !heldReadsReleased {
            await withCheckedContinuation { heldReads.append($0) }
        }
        guard let object = objects[key] else { return .absent }
        return ReadResult(object: object, at: now)
    }

    /// Records the TTL in whole seconds when it is one (as HTTP sends it), else in milliseconds
    /// (`ttl=1500ms`); the expiry is exact to the millisecond.
    public func put(key: [UInt8], value: [UInt8], ttl: Duration?, supersedes: Supersedes, w: Int?) async throws -> CausalContext {
        try record("put", "ttl=\(ttl.map(Self.describe) ?? "-") w=\(w.map(String.init) ?? "-")")
        let expiry = ttl.map { now + Self.milliseconds($0) }
        return try write(key: key, .value(value, expiry: expiry), supersedes: supersedes)
    }

    public func delete(key: [UInt8], supersedes: Supersedes, w: Int?) async throws -> CausalContext {
        try record("delete", "w=\(w.map(String.init) ?? "-")")
        return try write(key: key, .tombstone, supersedes: supersedes)
    }

    /// One replica, so a plain or conditional write's read is this object itself; the condition
    /// is decided by `Supersedes.context(after:at:)`, as the node core decides it.
    private func write(key: [UInt8], _ sibling: Sibling<[UInt8]>, supersedes: Supersedes) throws -> CausalContext {
        var object = objects[key] ?? DVVSet()
        guard let context = supersedes.context(after: objects[key], at: now) else {
            throw KeyValueServiceError.preconditionFailed(current: object.join())
        }
        let result = Result { () throws(VersionError) in
            try object.update(with: context, sibling, by: actorID, siblingLimit: siblingLimit)
        }
        if case .failure(let error) = result {
            guard error.code == .siblingLimitExceeded else { throw error }
            throw KeyValueServiceError.siblingLimitExceeded(limit: siblingLimit)
        }
        objects[key] = object
        return object.join()
    }

    public func scan(prefix: [UInt8], limit: Int, after: [UInt8]?, values: Bool) async throws -> ScanPage {
        try record("scan", "limit=\(limit)")
        let live = objects.filter { $0.key.starts(with: prefix) && !$0.value.isDeleted(at: now) }
        let keys = live.keys.filter { after == nil || $0.lexicographicallyPrecedes(after!) == false && $0 != after! }
            .sorted { $0.lexicographicallyPrecedes($1) }
        let page = Array(keys.prefix(limit))
        return ScanPage(entries: page.map { key in
            ScanPage.Entry(key: key, read: values ? ReadResult(object: objects[key]!, at: now) : nil)
        }, nextAfter: keys.count > limit ? page.last : nil)
    }

    /// The current value is the one live sibling (`nil` when none); with several siblings the
    /// CAS fails and reports the first.
    public func cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?) async throws -> CASOutcome {
        try record("cas")
        let object = objects[key] ?? DVVSet()
        let live = object.values(at: now)
        guard live.count <= 1, live.first == expected else { return .failed(current: live.first) }
        _ = try write(key: key, new.map { .value($0) } ?? .tombstone, supersedes: .context(object.join()))
        return .applied
    }

    public func casWrite(key: [UInt8], new: [UInt8]?) async throws -> CASOutcome {
        try record("casWrite")
        let object = objects[key] ?? DVVSet()
        _ = try write(key: key, new.map { .value($0) } ?? .tombstone, supersedes: .context(object.join()))
        return .applied
    }

    public func serialGet(key: [UInt8]) async throws -> ReadResult {
        try record("serialGet")
        guard let object = objects[key] else { return .absent }
        return ReadResult(siblings: object.values(at: now), context: CausalContext())
    }

    public func replicaGet(key: [UInt8]) async throws -> ReplicaReadResult {
        try record("replicaGet")
        guard let object = objects[key] else { return ReplicaReadResult(read: .absent, isPrimary: true) }
        return ReplicaReadResult(read: ReadResult(object: object, at: now), isPrimary: true)
    }

    /// A positive TTL in whole milliseconds, rounded up.
    static func milliseconds(_ ttl: Duration) -> UInt64 {
        let (seconds, attoseconds) = ttl.components
        return UInt64(seconds) * 1_000 + UInt64((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    static func describe(_ ttl: Duration) -> String {
        let milliseconds = milliseconds(ttl)
        return milliseconds % 1_000 == 0 ? String(milliseconds / 1_000) : "\(milliseconds)ms"
    }

    private func memberIndex(_ node: String) throws -> Int {
        guard let index = members.firstIndex(where: { $0.node == node || $0.address == node }) else {
            throw KeyValueServiceError.nodeNotFound(node)
        }
        return index
    }

    public func leave(node: String?) async throws {
        try record("leave", node ?? "-")
        let index = try node.map(memberIndex) ?? 0
        guard members[index].status == "valid" || members[index].status == "joining" else {
            throw KeyValueServiceError.membershipConflict("\(members[index].node) is \(members[index].status)")
        }
        members[index].status = "leaving"
    }

    public func remove(node: String) async throws {
        try record("remove", node)
        let index = try memberIndex(node)
        guard index != 0 else {
            throw KeyValueServiceError.membershipConflict("a node cannot remove itself; use leave")
        }
        guard members[index].status != "removed" else {
            throw KeyValueServiceError.membershipConflict("\(members[index].node) is already removed")
        }
        members[index].status = "removed"
        members[index].partitions = 0
    }

    /// The shape docs/api.md describes for `GET /v1/cluster`.
    public func clusterStatus() async throws -> JSONValue {
        try record("cluster")
        let memberObjects: [JSONValue] = members.map { member in
            [
                "node": .string(member.node), "address": .string(member.address), "status": .string(member.status),
                "reachable": .bool(member.reachable), "partitions": .integer(Int64(member.partitions)),
            ]
        }
        return [
            "node": .string(members[0].node),
            "members": .array(memberObjects),
            "ring": ["version": 1, "partitions": 64, "n": .integer(Int64(replicationFactor))],
            "transfers": .array(transfers),
        ]
    }

    /// The shape docs/api.md describes for `GET /v1/cluster/partitions`: 8 partitions over the
    /// double's valid members, no exchange yet, no hints.
    public func clusterPartitions() async throws -> JSONValue {
        try record("partitions")
        let owners = members.filter { $0.status == "valid" }.map(\.node)
        let partitions: [JSONValue] = (0..<8).map { partition in
            let replicas = (0..<min(replicationFactor, owners.count)).map { owners[(partition + $0) % owners.count] }
            return [
                "partition": .integer(Int64(partition)), "replicas": .array(replicas.map(JSONValue.string)),
                "here": .bool(replicas.contains(members[0].node)), "pending": false, "exchange": .null,
            ]
        }
        return ["node": .string(members[0].node), "partitions": .array(partitions), "hints": .array([])]
    }

    /// The double has no transfers: pause, resume and throttle answer the settings they set;
    /// a cancel finds nothing.
    public func steerTransfers(_ steering: TransferSteering) async throws -> JSONValue {
        try record("transfers")
        switch steering {
        case .pause: handoffPaused = true
        case .resume: handoffPaused = false
        case .throttle(let bytesPerSecond): handoffBytesPerSecond = bytesPerSecond
        case .cancel(let partition, _):
            throw KeyValueServiceError(.transferNotFound, "this node sends no transfer of partition \(partition)")
        }
        return ["paused": .bool(handoffPaused), "bytes_per_second": .integer(Int64(handoffBytesPerSecond))]
    }

    /// The double holds one copy of everything and no peers: a rebuild counts its keys; an
    /// exchange has no other replica to run with.
    /// The in-memory service has no ring: a plan names what it lacks, a commit is stale.
    public func plan(leave: [String], remove: [String]) async throws -> JSONValue {
        try record("plan")
        for name in leave + remove { _ = try memberIndex(name) }
        throw KeyValueServiceError.membershipConflict("the in-memory service has no ring to plan changes of")
    }

    public func commit(token: String) async throws -> JSONValue {
        try record("commit")
        throw KeyValueServiceError(.planStale, "the in-memory service carries out no plan")
    }

    public func antiEntropy(_ order: AntiEntropyOrder) async throws -> JSONValue {
        try record("antientropy")
        switch order {
        case .exchange(let partition):
            return ["partition": .integer(Int64(partition)), "peers": .array([])]
        case .rebuildTree(let partition):
            return ["partition": .integer(Int64(partition)), "keys": .integer(Int64(objects.count)), "changed": false]
        case .pause, .resume, .interval:
            return ["paused": .bool(order == .pause), "interval_ms": 1_000]
        }
    }

    public func health() async throws -> HealthReport {
        try record("health")
        return HealthReport(isHealthy: true, details: ["keys": .integer(Int64(objects.count))])
    }

    public func metricsText() async throws -> String {
        try record("metrics")
        return "# TYPE cairn_keys gauge\ncairn_keys \(objects.count)\n"
    }
}
