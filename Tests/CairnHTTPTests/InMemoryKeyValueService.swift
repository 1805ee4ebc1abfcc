import CairnCore
import CairnHTTP

/// A test double of the node for the HTTP layer only: one replica in memory, versioned with
/// CairnCore's `DVVSet` so contexts, siblings, tombstones and expiry behave as the node's will.
/// No quorums, no replication, no CAS (it answers `notImplemented`, as the node will until CAS
/// lands). Failures can be injected per operation, and reads of keys starting with "slow" take
/// a while, to test response order on pipelined connections.
actor InMemoryKeyValueService: KeyValueService {
    nonisolated let replicationFactor: Int
    private let actorID = ReplicaActor(node: NodeID(high: 0, low: 1))
    private let siblingLimit: Int
    private var objects: [[UInt8]: DVVSet<[UInt8]>] = [:]
    /// Milliseconds since 1970 as this double's clock; tests move it.
    private(set) var nowMilliseconds: UInt64 = 1_700_000_000_000
    /// The error the next call of the named operation throws, once.
    private var injected: [String: any Error] = [:]
    /// What each call received, in order, for tests that check the arguments.
    private(set) var calls: [String] = []

    init(replicationFactor: Int = 3, siblingLimit: Int = 4) {
        self.replicationFactor = replicationFactor
        self.siblingLimit = siblingLimit
    }

    func advance(milliseconds: UInt64) { nowMilliseconds += milliseconds }

    func failNext(_ operation: String, with error: any Error) { injected[operation] = error }

    private func record(_ operation: String, _ detail: String = "") throws {
        calls.append(detail.isEmpty ? operation : "\(operation) \(detail)")
        if let error = injected.removeValue(forKey: operation) { throw error }
    }

    func get(key: [UInt8], r: Int?) async throws -> ReadResult {
        try record("get", "r=\(r.map(String.init) ?? "-")")
        if key.starts(with: Array("slow".utf8)) { try await Task.sleep(for: .milliseconds(100)) }
        guard let object = objects[key] else { return .absent }
        return ReadResult(siblings: object.values(atMilliseconds: nowMilliseconds), context: object.join())
    }

    func put(key: [UInt8], value: [UInt8], ttlSeconds: Int64?, context: CausalContext, w: Int?) async throws {
        try record("put", "ttl=\(ttlSeconds.map(String.init) ?? "-") w=\(w.map(String.init) ?? "-")")
        let expiry = ttlSeconds.map { nowMilliseconds + UInt64($0) * 1000 } ?? 0
        try write(key: key, .value(value, expiryMilliseconds: expiry), context: context)
    }

    func delete(key: [UInt8], context: CausalContext, w: Int?) async throws {
        try record("delete", "w=\(w.map(String.init) ?? "-")")
        try write(key: key, .tombstone, context: context)
    }

    private func write(key: [UInt8], _ sibling: Sibling<[UInt8]>, context: CausalContext) throws {
        var object = objects[key] ?? DVVSet()
        let result = Result { () throws(VersionError) in
            try object.update(with: context, sibling, by: actorID, siblingLimit: siblingLimit)
        }
        if case .failure(let error) = result {
            guard error.code == .siblingLimitExceeded else { throw error }
            throw KeyValueServiceError.siblingLimitExceeded(limit: siblingLimit)
        }
        objects[key] = object
    }

    func scan(prefix: [UInt8], limit: Int, after: [UInt8]?) async throws -> ScanPage {
        try record("scan", "limit=\(limit)")
        let live = objects.filter { $0.key.starts(with: prefix) && !$0.value.isDeleted(atMilliseconds: nowMilliseconds) }
        let keys = live.keys.filter { after == nil || $0.lexicographicallyPrecedes(after!) == false && $0 != after! }
            .sorted { $0.lexicographicallyPrecedes($1) }
        let page = Array(keys.prefix(limit))
        return ScanPage(keys: page, nextAfter: keys.count > limit ? page.last : nil)
    }

    func cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?) async throws -> CASOutcome {
        try record("cas")
        throw KeyValueServiceError.notImplemented("compare-and-set")
    }

    func clusterStatus() async throws -> JSONValue {
        try record("cluster")
        return ["members": [["node": .string(actorID.node.description), "status": "valid"]], "n": .integer(Int64(replicationFactor))]
    }

    func health() async throws -> HealthReport {
        try record("health")
        return HealthReport(isHealthy: true, details: ["keys": .integer(Int64(objects.count))])
    }

    func metricsText() async throws -> String {
        try record("metrics")
        return "# TYPE cairn_keys gauge\ncairn_keys \(objects.count)\n"
    }
}
