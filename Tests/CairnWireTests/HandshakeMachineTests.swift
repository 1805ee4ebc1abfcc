import CairnCore
import CairnTransport
import CairnWire
import NIOCore
import Testing

@Suite("Handshake machine")
struct HandshakeMachineTests {
    static let secret = ClusterSecret(Array("sixteen-byte-secret!".utf8))
    static let otherSecret = ClusterSecret(Array("another-secret-value".utf8))

    static func configuration(
        cluster: String = "alpha", node: NodeID = WireSamples.a, address: String = "127.0.0.1:7000",
        secret: ClusterSecret? = nil, version: UInt16 = Handshake.protocolVersion
    ) -> Handshake.Configuration {
        Handshake.Configuration(clusterName: cluster, node: node, listenAddress: address, authenticator: secret, version: version)
    }

    static func nonce(_ byte: UInt8) -> [UInt8] { Array(repeating: byte, count: Handshake.nonceBytes) }

    /// Runs both machines against each other, delivering frames in order; returns each side's
    /// terminal actions (everything but `.send`).
    static func run(_ initiator: Handshake.Configuration, _ acceptor: Handshake.Configuration)
        -> (initiator: [Handshake.Machine.Action], acceptor: [Handshake.Machine.Action])
    {
        var left = Handshake.Machine(role: .initiator, configuration: initiator, nonce: nonce(1))
        var right = Handshake.Machine(role: .acceptor, configuration: acceptor, nonce: nonce(2))
        var toRight = left.start()
        var toLeft = right.start()
        var leftResults: [Handshake.Machine.Action] = []
        var rightResults: [Handshake.Machine.Action] = []
        func frames(_ actions: [Handshake.Machine.Action]) -> [Frame] {
            actions.compactMap { if case .send(let frame) = $0 { frame } else { nil } }
        }
        func results(_ actions: [Handshake.Machine.Action]) -> [Handshake.Machine.Action] {
            actions.filter { if case .send = $0 { false } else { true } }
        }
        for _ in 0..<4 {
            var nextToLeft: [Handshake.Machine.Action] = []
            var nextToRight: [Handshake.Machine.Action] = []
            for frame in frames(toRight) where !right.isClosed && !right.isEstablished {
                let actions = right.receive(frame)
                rightResults += results(actions)
                nextToLeft += actions
            }
            for frame in frames(toLeft) where !left.isClosed && !left.isEstablished {
                let actions = left.receive(frame)
                leftResults += results(actions)
                nextToRight += actions
            }
            toLeft = nextToLeft
            toRight = nextToRight
        }
        return (leftResults, rightResults)
    }

    static func refusal(_ actions: [Handshake.Machine.Action]) -> Handshake.Refusal.Reason? {
        for action in actions {
            if case .refused(let refusal) = action { return refusal.reason }
            if case .peerRefused(let refusal) = action { return refusal.reason }
        }
        return nil
    }

    @Test("same cluster, no secret: both sides establish and learn the other")
    func plain() {
        let (left, right) = Self.run(Self.configuration(), Self.configuration(node: WireSamples.b, address: "127.0.0.2:7000"))
        #expect(left == [.established(Handshake.Peer(
            node: WireSamples.b, clusterName: "alpha", listenAddress: "127.0.0.2:7000", version: Handshake.protocolVersion, authenticated: false))])
        #expect(right == [.established(Handshake.Peer(
            node: WireSamples.a, clusterName: "alpha", listenAddress: "127.0.0.1:7000", version: Handshake.protocolVersion, authenticated: false))])
    }

    @Test("same secret: both sides prove it and establish authenticated")
    func withSecret() {
        let (left, right) = Self.run(Self.configuration(secret: Self.secret), Self.configuration(node: WireSamples.b, secret: Self.secret))
        guard case .established(let peer) = left.first, case .established(let other) = right.first else {
            Issue.record("not established: \(left) \(right)")
            return
        }
        #expect(peer.authenticated && other.authenticated)
    }

    @Test("another cluster is refused, and the other side hears why")
    func wrongCluster() {
        let (left, right) = Self.run(Self.configuration(), Self.configuration(cluster: "beta", node: WireSamples.b))
        #expect(Self.refusal(left) == .wrongCluster)
        #expect(Self.refusal(right) == .wrongCluster)
    }

    @Test("another protocol version is refused")
    func wrongVersion() {
        let (left, right) = Self.run(Self.configuration(version: Handshake.protocolVersion + 1), Self.configuration(node: WireSamples.b))
        #expect(Self.refusal(right) == .unsupportedVersion)
        #expect(Self.refusal(left) == .unsupportedVersion)
    }

    @Test("different secrets: the proof does not verify")
    func badSecret() {
        let (left, right) = Self.run(Self.configuration(secret: Self.secret), Self.configuration(node: WireSamples.b, secret: Self.otherSecret))
        #expect(Self.refusal(left) == .badProof)
        #expect(Self.refusal(right) == .badProof)
    }

    @Test("a secret on one side only is refused")
    func secretOnOneSide() {
        let (left, right) = Self.run(Self.configuration(secret: Self.secret), Self.configuration(node: WireSamples.b))
        #expect(Self.refusal(left) == .secretMismatch)
        #expect(Self.refusal(right) == .secretMismatch)
    }

    @Test("a node talking to its own identity is refused")
    func selfConnection() {
        let (left, _) = Self.run(Self.configuration(), Self.configuration())
        #expect(Self.refusal(left) == .selfConnection)
    }

    @Test("a reflected proof does not verify: the role is in the transcript")
    func reflection() {
        var acceptor = Handshake.Machine(role: .acceptor, configuration: Self.configuration(node: WireSamples.b, secret: Self.secret), nonce: Self.nonce(2))
        _ = acceptor.start()
        // The attacker copies the acceptor's nonce and claims some identity, then answers with a
        // proof computed as if it were the acceptor (what it could get by reflecting).
        let hello = Handshake.Hello(clusterName: "alpha", node: WireSamples.c, listenAddress: "127.0.0.3:1", nonce: Self.nonce(2), requiresProof: true)
        _ = acceptor.receive(Handshake.Message.hello(hello).frame())
        let acceptorHello = Handshake.Hello(clusterName: "alpha", node: WireSamples.b, listenAddress: "127.0.0.1:7000", nonce: Self.nonce(2), requiresProof: true)
        let reflected = Self.secret.proof(for: Handshake.transcript(prover: hello, proverRole: .acceptor, verifier: acceptorHello))
        let actions = acceptor.receive(Handshake.Message.proof(reflected).frame())
        #expect(Self.refusal(actions) == .badProof)
    }

    @Test("a data frame during the handshake is refused; a garbage hello is malformed")
    func unexpected() {
        var machine = Handshake.Machine(role: .acceptor, configuration: Self.configuration(), nonce: Self.nonce(3))
        _ = machine.start()
        #expect(Self.refusal(machine.receive(WireMessage.ack.frame(requestID: 1))) == .unexpectedFrame)
        var other = Handshake.Machine(role: .acceptor, configuration: Self.configuration(), nonce: Self.nonce(3))
        _ = other.start()
        var payload = ByteBuffer(bytes: Handshake.magic)
        payload.writeInteger(Handshake.protocolVersion)
        payload.writeInteger(UInt8(0))
        let frame = Frame(kind: .handshake, messageType: 1, requestID: 0, payload: payload)
        #expect(Self.refusal(other.receive(frame)) == .malformed)
        var third = Handshake.Machine(role: .acceptor, configuration: Self.configuration(), nonce: Self.nonce(3))
        _ = third.start()
        let http = Frame(kind: .handshake, messageType: 1, requestID: 0, payload: ByteBuffer(string: "GET / HTTP/1.1"))
        #expect(Self.refusal(third.receive(http)) == .wrongMagic)
    }

    @Test("handshake messages round-trip")
    func codec() throws {
        let messages: [Handshake.Message] = [
            .hello(Handshake.Hello(clusterName: "alpha", node: WireSamples.a, listenAddress: "[::1]:9", nonce: Self.nonce(7), requiresProof: true)),
            .proof(Array(repeating: 3, count: 32)),
            .refusal(Handshake.Refusal(.wrongCluster, "cluster 'beta'")),
        ]
        for message in messages { #expect(try Handshake.Message(frame: message.frame()) == message) }
    }
}
