import CairnClient
import NIOCore
import NIOPosix
import Synchronization

/// Requests over the Redis protocol (RESP2), to `cairnd --resp HOST:PORT` (docs/resp.md) or to
/// Redis itself: `GET key` and `SET key value`. CAS and scans have no plain Redis equivalent
/// with the same meaning, so this transport runs the get, put and mixed workloads.
public struct RESPLoadTransport: LoadTransport {
    public let name = "resp"
    public let supportedOperations: Set<OperationKind> = [.get, .put]
    public var timeout: Duration
    public var sourceAddress: String?
    let group: any EventLoopGroup

    public init(timeout: Duration, sourceAddress: String? = nil) {
        self.timeout = timeout
        self.sourceAddress = sourceAddress
        group = MultiThreadedEventLoopGroup.singleton
    }

    public func check(_ node: NodeAddress) async throws {
        let connection = try await RESPConnection.connect(to: node, from: sourceAddress, group: group, timeout: timeout)
        defer { connection.close() }
        let reply = try await connection.send([Array("PING".utf8)], timeout: timeout)
        guard case .simpleString("PONG") = reply else { throw RESPClientError.unexpectedReply("\(reply) to PING") }
    }

    public func connect(to node: NodeAddress) async throws -> any LoadConnection {
        RESPLoadConnection(transport: self, node: node)
    }

    public func label(for error: any Error) -> String {
        switch error {
        case RESPClientError.refused(let message): "refused: " + String(message.prefix(while: { $0 != " " }))
        case RESPClientError.timedOut: "timeout"
        case RESPClientError.unreachable: "unreachable"
        case RESPClientError.connectionLost: "connection lost"
        case RESPClientError.malformedReply: "malformed reply"
        case RESPClientError.unexpectedReply: "unexpected reply"
        default: "\(error)"
        }
    }

    func open(_ node: NodeAddress) async throws -> RESPConnection {
        try await RESPConnection.connect(to: node, from: sourceAddress, group: group, timeout: timeout)
    }
}

/// A worker's RESP connection, opened on first use and again after one fails.
final class RESPLoadConnection: LoadConnection {
    let transport: RESPLoadTransport
    let node: NodeAddress
    private let current = Mutex<RESPConnection?>(nil)

    init(transport: RESPLoadTransport, node: NodeAddress) {
        self.transport = transport
        self.node = node
    }

    func perform(_ request: LoadRequest) async throws -> LoadOutcome {
        let connection: RESPConnection
        if let open = current.withLock({ $0 }), open.isActive {
            connection = open
        } else {
            connection = try await transport.open(node)
            current.withLock { $0 = connection }
        }
        switch request {
        case .get(let key):
            switch try await connection.send([Array("GET".utf8), key], timeout: transport.timeout) {
            case .bulkString(.some): return .found
            case .bulkString(.none): return .notFound
            case let reply: throw Self.failure(reply)
            }
        case .put(let key, let value):
            switch try await connection.send([Array("SET".utf8), key, value], timeout: transport.timeout) {
            case .simpleString("OK"): return .written
            case let reply: throw Self.failure(reply)
            }
        case .cas, .scan:
            preconditionFailure("the resp transport sends no \(request.kind) (the runner checks supportedOperations)")
        }
    }

    func close() {
        current.withLock { $0 }?.close()
    }

    private static func failure(_ reply: RESPValue) -> RESPClientError {
        if case .error(let message) = reply { return .refused(message) }
        return .unexpectedReply("\(reply)")
    }
}
