import CairnCore
@testable import CairnTransport
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// The handshake handler on two EmbeddedChannels wired back to back: no sockets, no threads.
@Suite("Handshake over EmbeddedChannel")
struct HandshakeChannelTests {
    final class Side {
        let channel = EmbeddedChannel()
        let promise: EventLoopPromise<Handshake.Peer>
        let outcome = NIOLockedValueBox<Result<Handshake.Peer, any Error>?>(nil)
        var result: Result<Handshake.Peer, any Error>? { outcome.withLockedValue { $0 } }

        init(role: Handshake.Role, configuration: Handshake.Configuration, logger: Logger) throws {
            promise = channel.eventLoop.makePromise()
            let decoder = FrameDecoder()
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(decoder, maximumBufferSize: decoder.maximumBufferSize),
                MessageToByteHandler(FrameEncoder()),
                HandshakeHandler(
                    role: role, configuration: configuration, limits: WireLimits(), timeout: .seconds(5),
                    established: promise, peerLabel: "\(role)", logger: logger),
            ])
            promise.futureResult.whenComplete { [outcome] result in outcome.withLockedValue { $0 = result } }
        }

        var refusal: Handshake.Refusal? {
            guard case .failure(let error) = result else { return nil }
            return (error as? TransportError)?.refusal
        }
    }

    /// Connects both sides and carries bytes between them until neither writes.
    static func run(_ left: Handshake.Configuration, _ right: Handshake.Configuration, log: LogRecorder) throws -> (Side, Side) {
        let initiator = try Side(role: .initiator, configuration: left, logger: log.logger)
        let acceptor = try Side(role: .acceptor, configuration: right, logger: log.logger)
        try initiator.channel.connect(to: SocketAddress(ipAddress: "127.0.0.2", port: 1)).wait()
        try acceptor.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        for _ in 0..<10 {
            var moved = false
            for (from, to) in [(initiator, acceptor), (acceptor, initiator)] {
                while let bytes = try from.channel.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    if to.channel.isActive { try to.channel.writeInbound(bytes) }
                }
            }
            if !moved { break }
        }
        return (initiator, acceptor)
    }

    static func configuration(
        cluster: String = "alpha", node: NodeID, secret: ClusterSecret? = nil, version: UInt16 = Handshake.protocolVersion
    ) -> Handshake.Configuration {
        Handshake.Configuration(clusterName: cluster, node: node, listenAddress: "127.0.0.1:7000", authenticator: secret, version: version)
    }

    static let secret = ClusterSecret(Array("0123456789abcdef0123".utf8))

    @Test("a good handshake establishes both sides, with and without a secret")
    func good() throws {
        for secret in [nil, Self.secret] {
            let log = LogRecorder()
            let (left, right) = try Self.run(
                Self.configuration(node: WireSamples.a, secret: secret), Self.configuration(node: WireSamples.b, secret: secret), log: log)
            #expect(try left.result?.get().node == WireSamples.b)
            #expect(try right.result?.get().node == WireSamples.a)
            #expect(try left.result?.get().authenticated == (secret != nil))
            #expect(left.channel.isActive && right.channel.isActive)
            _ = try left.channel.finish()
            _ = try right.channel.finish()
        }
    }

    @Test("wrong cluster, wrong version and a bad secret are refused, logged and closed", arguments: [
        ("beta", Handshake.protocolVersion, false, Handshake.Refusal.Reason.wrongCluster),
        ("alpha", Handshake.protocolVersion + 1, false, .unsupportedVersion),
        ("alpha", Handshake.protocolVersion, true, .badProof),
    ])
    func refused(cluster: String, version: UInt16, otherSecret: Bool, reason: Handshake.Refusal.Reason) throws {
        let log = LogRecorder()
        let wrongSecret = ClusterSecret(Array("a-different-secret-entirely".utf8))
        let (left, right) = try Self.run(
            Self.configuration(node: WireSamples.a, secret: Self.secret),
            Self.configuration(cluster: cluster, node: WireSamples.b, secret: otherSecret ? wrongSecret : Self.secret, version: version),
            log: log)
        #expect(left.refusal?.reason == reason)
        #expect(right.refusal?.reason == reason)
        #expect(!left.channel.isActive && !right.channel.isActive)
        #expect(log.refusals().contains("\(reason)"))
    }
}
