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
        var values = object.values(at: Node.wallClock())
        // Unsafe on purpose (checker sanity only): a last-writer-wins store shows one value.
        if node.configuration.unsafeLastWriterWins, let last = values.last { values = [last] }
        return ReadResult(siblings: values, context: object.join())
    }

    public func put(key: [UInt8], value: [UInt8], ttlSeconds: Int64?, supersedes: Supersedes, w: Int?) async throws -> CausalContext {
        let expiry = ttlSeconds.map { Node.wallClock() + UInt64($0) * 1_000 }
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
        let now = Node.wallClock()
        return ScanPage(entries: page.items.map { item in
            ScanPage.Entry(key: item.key, read: item.object.map { ReadResult(siblings: $0.values(at: now), context: $0.join()) })
        }, nextAfter: page.next)
    }

    public func clusterStatus() async throws -> JSONValue { await node.statusJSON() }

    public func leave(node name: String?) async throws { try await node.leave(node: name) }

    public func remove(node name: String) async throws { try await node.remove(node: name) }

    public func health() async throws -> HealthReport { await node.healthReport() }

    public func metricsText() async throws -> String {
        await node.updateGauges()
        return metricsRenderer()
    }
}
