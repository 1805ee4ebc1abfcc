import CairnCore
import CairnHTTP

/// The HTTP API's view of a node (`KeyValueService`, docs/api.md).
public struct NodeService: KeyValueService {
    public let node: Node
    let metricsRenderer: @Sendable () -> String

    public init(node: Node, metrics: @escaping @Sendable () -> String) {
        self.node = node
        self.metricsRenderer = metrics
    }

    public var replicationFactor: Int { node.configuration.replicas }

    public func get(key: [UInt8], r: Int?) async throws -> ReadResult {
        guard let object = try await explainingQuorum(.read, { try await node.read(key: key, r: r) }) else { return .absent }
        let result = ReadResult(object: object, at: node.shared.clusterWallClock())
        // Unsafe on purpose (checker sanity only): a last-writer-wins store shows one value.
        return node.configuration.unsafeLastWriterWins ? result.lastSiblingOnly : result
    }

    public func put(key: [UInt8], value: [UInt8], ttl: Duration?, supersedes: Supersedes, w: Int?) async throws -> CausalContext {
        let expiry = ttl.map { node.shared.clusterWallClock() + Self.milliseconds($0) }
        return try await explainingQuorum(writeQuorum(supersedes, w: w)) {
            try await node.write(key: key, sibling: .value(value, expiry: expiry), supersedes: supersedes, w: w)
        }
    }

    public func delete(key: [UInt8], supersedes: Supersedes, w: Int?) async throws -> CausalContext {
        try await explainingQuorum(writeQuorum(supersedes, w: w)) {
            try await node.write(key: key, sibling: .tombstone, supersedes: supersedes, w: w)
        }
    }

    public func scan(prefix: [UInt8], limit: Int, after: [UInt8]?, values: Bool) async throws -> ScanPage {
        let page = try await node.scan(prefix: prefix, limit: limit, after: after, values: values)
        let now = node.shared.clusterWallClock()
        return ScanPage(entries: page.items.map { item in
            ScanPage.Entry(key: item.key, read: item.object.map { ReadResult(object: $0, at: now) })
        }, nextAfter: page.next)
    }

    public func clusterStatus() async throws -> JSONValue { await node.statusJSON() }

    public func clusterPartitions() async throws -> JSONValue { await node.partitionsJSON() }

    public func steerTransfers(_ steering: TransferSteering) async throws -> JSONValue { try await node.steerTransfers(steering) }

    public func antiEntropy(_ order: AntiEntropyOrder) async throws -> JSONValue { try await node.antiEntropy(order) }
    public func plan(leave: [String], remove: [String]) async throws -> JSONValue { try await node.plan(leave: leave, remove: remove) }
    public func commit(token: String) async throws -> JSONValue { try await node.commit(token: token) }

    /// `ttl` in whole milliseconds, rounded up so that no write expires sooner than asked; the
    /// API bounds it to years, far from overflow.
    static func milliseconds(_ ttl: Duration) -> UInt64 {
        let (seconds, attoseconds) = ttl.components
        let fraction = UInt64(clamping: (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        let (whole, overflow) = UInt64(clamping: seconds).multipliedReportingOverflow(by: 1_000)
        let (sum, carry) = whole.addingReportingOverflow(fraction)
        return overflow || carry ? .max : sum
    }

    public func leave(node name: String?) async throws { try await node.leave(node: name) }

    public func remove(node name: String) async throws { try await node.remove(node: name) }

    public func health() async throws -> HealthReport { await node.healthReport() }

    public func metricsText() async throws -> String {
        await node.updateGauges()
        return metricsRenderer()
    }
}
