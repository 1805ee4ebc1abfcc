import CairnCore
@testable import CairnTransport
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Records log lines so tests can check that a refusal was logged with its reason.
struct RecordingLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let entries: NIOLockedValueBox<[Entry]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = self.metadata
        for (key, value) in event.metadata ?? [:] { all[key] = value }
        entries.withLockedValue {
            $0.append(Entry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}

final class LogRecorder: Sendable {
    let entries = NIOLockedValueBox<[RecordingLogHandler.Entry]>([])

    var logger: Logger {
        Logger(label: "cairn.wire.test") { _ in RecordingLogHandler(entries: self.entries) }
    }

    func refusals() -> [String] {
        entries.withLockedValue { $0.compactMap { $0.metadata["cairn.refusal"] } }
    }
}

/// A request handler for the tests: answers reads with the key as the value, acks the rest,
/// never answers key "never", answers key "big" with more than a frame holds, and records
/// one-way messages.
final class TestHandler: WireRequestHandler {
    let oneWays = NIOLockedValueBox<[WireMessage]>([])
    let peers = NIOLockedValueBox<[Handshake.Peer]>([])
    /// "never" requests whose task was cancelled (the connection closed).
    let cancelled = NIOLockedValueBox(0)
    /// "never" requests running now, and the most that ever ran at once.
    let running = NIOLockedValueBox((now: 0, peak: 0))

    static let neverKey: [UInt8] = Array("never".utf8)
    static let bigKey: [UInt8] = Array("big".utf8)

    func handle(request: WireMessage, from peer: Handshake.Peer) async throws -> WireMessage {
        peers.withLockedValue { $0.append(peer) }
        switch request {
        case .read(let read) where read.key == Self.neverKey:
            running.withLockedValue { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            defer { running.withLockedValue { $0.now -= 1 } }
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                cancelled.withLockedValue { $0 += 1 }
            }
            return .readReply(.notFound)
        case .read(let read) where read.key == Self.bigKey:
            let value = [UInt8](repeating: 7, count: 2 << 20)
            return .readReply(.found(DVVSet.new(value, by: ReplicaActor(node: peer.node))))
        case .read(let read):
            return .readReply(.found(DVVSet.new(read.key, by: ReplicaActor(node: peer.node))))
        case .cas(let key, .prepare(let ballot)):
            return .cas(key: key, .promise(ballot, accepted: nil, committed: .initial, object: nil))
        default:
            return .ack
        }
    }

    func handle(oneWay: WireMessage, from peer: Handshake.Peer) async {
        oneWays.withLockedValue { $0.append(oneWay) }
    }
}

/// One test node: a server and a pool on one loopback address.
struct TestNode {
    let server: WireServer
    let pool: WirePool
    let handler: TestHandler

    static func start(
        host: String, port: Int = 0, cluster: String = "alpha", node: NodeID, secret: ClusterSecret? = nil,
        tls: WireTLS? = nil, settings: WireSettings = WireSettings(), group: any EventLoopGroup, logger: Logger
    ) async throws -> TestNode {
        let handler = TestHandler()
        let identity = WireIdentity(clusterName: cluster, node: node, secret: secret, tls: tls)
        let server = try await WireServer.start(
            host: host, port: port, identity: identity, settings: settings, group: group, handler: handler, logger: logger)
        let pool = try WirePool(identity: identity, listenAddress: server.listenAddress, settings: settings, group: group, logger: logger)
        return TestNode(server: server, pool: pool, handler: handler)
    }

    func shutdown() async {
        await pool.shutdown()
        await server.shutdown()
    }
}

func readValue(_ message: WireMessage) -> [UInt8]? {
    guard case .readReply(.found(let object)) = message else { return nil }
    return object.values(at: .zero).first
}

func transportError(_ body: () async throws -> Void) async -> TransportError? {
    do {
        try await body()
        return nil
    } catch let error as TransportError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// Runs `body` with an event loop group that is shut down afterwards.
func withGroup<T>(_ body: (MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    do {
        let result = try await body(group)
        try await group.shutdownGracefully()
        return result
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}
