import CairnClient
import NIOSSL

/// Requests over the node's HTTP API through `CairnClient`: GET, a plain PUT (no context, as
/// a client that does not read first sends), CAS, and scans.
public struct HTTPLoadTransport: LoadTransport {
    public let name = "http"
    public let supportedOperations: Set<OperationKind> = Set(OperationKind.allCases)
    /// Each request's deadline, connecting included.
    public var timeout: Duration
    /// The local address connections leave from (`nil`: the system's choice).
    public var sourceAddress: String?
    /// HTTPS with this context (`cairn --ca`), or nil for plain HTTP.
    public var tls: NIOSSLContext?

    public init(timeout: Duration, sourceAddress: String? = nil, tls: NIOSSLContext? = nil) {
        self.timeout = timeout
        self.sourceAddress = sourceAddress
        self.tls = tls
    }

    public func check(_ node: NodeAddress) async throws {
        let client = try makeClient(node)
        defer { client.close() }
        _ = try await client.health()
    }

    public func connect(to node: NodeAddress) async throws -> any LoadConnection {
        HTTPLoadConnection(client: try makeClient(node))
    }

    public func label(for error: any Error) -> String {
        switch error {
        case CairnClientError.http(let status, let code, _): code.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(code)"
        case CairnClientError.timedOut: "timeout"
        case CairnClientError.unreachable: "unreachable"
        case CairnClientError.connectionLost: "connection lost"
        case CairnClientError.malformedResponse: "malformed response"
        default: "\(error)"
        }
    }

    /// One idle connection kept: the worker's own, reused for every request it sends.
    private func makeClient(_ node: NodeAddress) throws -> CairnClient {
        try CairnClient(node: node.description, timeout: timeout, maxIdleConnections: 1, sourceAddress: sourceAddress, tls: tls)
    }
}

struct HTTPLoadConnection: LoadConnection {
    let client: CairnClient

    func perform(_ request: LoadRequest) async throws -> LoadOutcome {
        switch request {
        case .get(let key):
            return try await client.get(key: key).isAbsent ? .notFound : .found
        case .put(let key, let value):
            try await client.put(key: key, value: value)
            return .written
        case .cas(let key, let expected, let new):
            switch try await client.cas(key: key, expected: expected, new: new) {
            case .applied: return .applied
            case .failed(let current): return .notApplied(current: current)
            // Only plain writes make siblings, and CAS keys take none; expect the first.
            case .siblings(let values): return .notApplied(current: values.first)
            }
        case .scan(let prefix, let after, let limit):
            return .listed(keys: try await client.scan(prefix: prefix, limit: limit, after: after).keys.count)
        }
    }

    func close() { client.close() }
}
