import CairnCore
import NIOCore

extension Handshake {
    /// One side of one handshake, as a pure state machine (STYLE.md: the channel handler only
    /// carries out its actions). The nonce comes in from outside: CairnWire creates no
    /// randomness.
    ///
    /// ```
    ///   start ─▶ awaitingHello ──hello ok, no secret──────────────▶ established
    ///                 │ └──────hello ok, secret: send proof─▶ awaitingProof ──proof ok──▶ established
    ///                 └─ bad hello / refusal / other frame ─▶ closed ◀── bad proof / refusal
    /// ```
    public struct Machine: Sendable {
        public enum Action: Hashable, Sendable {
            /// Write this frame to the peer.
            case send(Frame)
            /// The peer is who it says; requests may flow.
            case established(Peer)
            /// This side refuses the peer: the refusal frame was sent (in an earlier `.send`);
            /// log the reason and close the connection.
            case refused(Refusal)
            /// The peer refused this side: log the reason and close.
            case peerRefused(Refusal)
        }

        enum State: Sendable {
            case idle
            case awaitingHello
            case awaitingProof(Hello)
            case established
            case closed
        }

        public let role: Role
        public let configuration: Configuration
        public let limits: WireLimits
        let nonce: [UInt8]
        var state: State = .idle

        public init(role: Role, configuration: Configuration, nonce: [UInt8], limits: WireLimits = WireLimits()) {
            precondition(nonce.count == Handshake.nonceBytes, "nonce of \(nonce.count) bytes, need \(Handshake.nonceBytes)")
            self.role = role
            self.configuration = configuration
            self.nonce = nonce
            self.limits = limits
        }

        public var isEstablished: Bool { if case .established = state { true } else { false } }
        public var isClosed: Bool { if case .closed = state { true } else { false } }

        var hello: Hello {
            Hello(
                version: configuration.version, clusterName: configuration.clusterName, node: configuration.node,
                listenAddress: configuration.listenAddress, nonce: nonce, requiresProof: configuration.authenticator != nil)
        }

        /// Sends this side's hello. Both sides send at once; neither waits for the other.
        public mutating func start() -> [Action] {
            precondition(isIdle, "handshake started twice (state \(state))")
            state = .awaitingHello
            return [.send(Message.hello(hello).frame())]
        }

        var isIdle: Bool { if case .idle = state { true } else { false } }

        /// A frame from the peer.
        public mutating func receive(_ frame: Frame) -> [Action] {
            switch state {
            case .idle, .established, .closed:
                preconditionFailure("handshake frame received in state \(state)")
            case .awaitingHello, .awaitingProof:
                break
            }
            let message: Message
            do {
                message = try Message(frame: frame, limits: limits, expectedVersion: configuration.version)
            } catch {
                return refuse(error)
            }
            switch (message, state) {
            case (.refusal(let refusal), _):
                state = .closed
                return [.peerRefused(refusal)]
            case (.hello(let peerHello), .awaitingHello):
                return onHello(peerHello)
            case (.proof(let proof), .awaitingProof(let peerHello)):
                let transcript = Handshake.transcript(prover: peerHello, proverRole: role.other, verifier: hello)
                guard let authenticator = configuration.authenticator, authenticator.isValid(proof, for: transcript) else {
                    return refuse(Refusal(.badProof, "the proof of the cluster secret from \(peerHello.node) does not verify"))
                }
                return establish(peerHello, authenticated: true)
            default:
                return refuse(Refusal(.unexpectedFrame, "handshake message \(message.name) in state \(state)"))
            }
        }

        /// The handshake took too long: refuse (the shell's timer).
        public mutating func timedOut() -> [Action] {
            guard !isEstablished, !isClosed else { return [] }
            return refuse(Refusal(.timedOut, "handshake not finished in time (state \(state))"))
        }

        private mutating func onHello(_ peer: Hello) -> [Action] {
            guard peer.clusterName == configuration.clusterName else {
                return refuse(Refusal(
                    .wrongCluster, "peer \(peer.node) at \(peer.listenAddress) is in cluster '\(peer.clusterName)', this node in '\(configuration.clusterName)'"))
            }
            guard peer.node != configuration.node else {
                return refuse(Refusal(.selfConnection, "peer at \(peer.listenAddress) has this node's identity \(peer.node)"))
            }
            guard peer.requiresProof == (configuration.authenticator != nil) else {
                let mine = configuration.authenticator != nil ? "has" : "has no"
                let theirs = peer.requiresProof ? "has" : "has no"
                return refuse(Refusal(.secretMismatch, "this node \(mine) cluster secret, peer \(peer.node) \(theirs)"))
            }
            guard let authenticator = configuration.authenticator else {
                return establish(peer, authenticated: false)
            }
            state = .awaitingProof(peer)
            let transcript = Handshake.transcript(prover: hello, proverRole: role, verifier: peer)
            return [.send(Message.proof(authenticator.proof(for: transcript)).frame())]
        }

        private mutating func establish(_ peer: Hello, authenticated: Bool) -> [Action] {
            state = .established
            return [.established(Peer(
                node: peer.node, clusterName: peer.clusterName, listenAddress: peer.listenAddress, version: peer.version,
                authenticated: authenticated))]
        }

        private mutating func refuse(_ refusal: Refusal) -> [Action] {
            state = .closed
            return [.send(Message.refusal(refusal).frame()), .refused(refusal)]
        }
    }

    /// What a proof covers: a label, the prover's role, both nonces (the verifier's challenge
    /// first), both identities, both listen addresses and the cluster name, each variable field
    /// behind its length.
    public static func transcript(prover: Hello, proverRole: Role, verifier: Hello) -> [UInt8] {
        var bytes: [UInt8] = Array("cairn-wire-proof-v1".utf8)
        bytes.append(proverRole.rawValue)
        func field(_ value: [UInt8]) {
            let length = UInt32(value.count)
            bytes += [UInt8(length >> 24 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
            bytes += value
        }
        field(verifier.nonce)
        field(prover.nonce)
        field(prover.node.bytes)
        field(verifier.node.bytes)
        field(Array(prover.listenAddress.utf8))
        field(Array(verifier.listenAddress.utf8))
        field(Array(prover.clusterName.utf8))
        return bytes
    }
}

extension Handshake.Role {
    var other: Handshake.Role { self == .initiator ? .acceptor : .initiator }
}

extension Handshake.Message {
    var name: String {
        switch self {
        case .hello: "hello"
        case .proof: "proof"
        case .refusal: "refusal"
        }
    }
}
