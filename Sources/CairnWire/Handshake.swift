import CairnCore
import NIOCore

/// The opening exchange of every internode connection: both sides say who they are, refuse a
/// peer from another cluster or speaking another protocol version, and (when the cluster has a
/// shared secret) prove they know it.
///
/// ```
///   initiator                                   acceptor
///      │ ── hello(magic, version, cluster, node, ──▶ │   both send hello at once;
///      │ ◀─        listen address, nonce, flags) ── │   each checks the other's
///      │                                            │
///      │ ── proof = HMAC(secret, transcript) ─────▶ │   only when the cluster has a
///      │ ◀─ proof ───────────────────────────────── │   secret (challenge–response)
///      │                                            │
///      established: requests may flow               or: refusal(reason) and close
/// ```
///
/// The proof answers the other side's nonce, so it cannot be replayed on another connection;
/// it names the prover's role, so a proof cannot be reflected back at its sender. The hellos
/// themselves are covered by the transcript, so a tampered name or address fails the proof.
/// The message authentication code is supplied by an `Authenticator` (CairnTransport's
/// `ClusterSecret` computes HMAC-SHA256); without one, the proof step is skipped and a peer
/// that asks for a proof is refused (`secretMismatch`).
public enum Handshake {
    /// The first four bytes of every hello: "CRNW" (Cairn wire).
    public static let magic: [UInt8] = Array("CRNW".utf8)
    /// The protocol version this build speaks. Peers must speak the same one.
    public static let protocolVersion: UInt16 = 8
    /// Bytes of the random nonce each side sends.
    public static let nonceBytes = 32

    /// Computes and checks the proof of the cluster secret over a transcript.
    public protocol Authenticator: Sendable {
        /// The message authentication code of `transcript` under the secret.
        func proof(for transcript: [UInt8]) -> [UInt8]
        /// Whether `proof` is the code of `transcript`, compared in constant time.
        func isValid(_ proof: [UInt8], for transcript: [UInt8]) -> Bool
    }

    /// Which end of the TCP connection a side is.
    public enum Role: UInt8, Hashable, Sendable {
        case initiator = 1
        case acceptor = 2
    }

    /// What one side announces.
    public struct Hello: Hashable, Sendable {
        public var version: UInt16
        public var clusterName: String
        public var node: NodeID
        /// `host:port` of the sender's internode listener.
        public var listenAddress: String
        public var nonce: [UInt8]
        /// Whether the sender has a cluster secret and will send (and expects) a proof.
        public var requiresProof: Bool

        public init(
            version: UInt16 = Handshake.protocolVersion, clusterName: String, node: NodeID, listenAddress: String,
            nonce: [UInt8], requiresProof: Bool
        ) {
            self.version = version
            self.clusterName = clusterName
            self.node = node
            self.listenAddress = listenAddress
            self.nonce = nonce
            self.requiresProof = requiresProof
        }
    }

    /// Why a handshake was refused. The refusing side sends it to the other before closing,
    /// so both can log it.
    public struct Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        public enum Reason: UInt8, Hashable, Sendable, CaseIterable {
            /// The first frame was not a Cairn hello (another protocol on the port).
            case wrongMagic = 1
            /// The peer speaks another protocol version.
            case unsupportedVersion = 2
            /// The peer belongs to another cluster (a misconfigured seed or address).
            case wrongCluster = 3
            /// One side has a cluster secret and the other has none.
            case secretMismatch = 4
            /// The proof of the secret did not verify: the secrets differ.
            case badProof = 5
            /// The peer has this node's own identity (a node connected to itself, or two
            /// nodes share an identity).
            case selfConnection = 6
            /// A handshake frame did not decode.
            case malformed = 7
            /// A frame arrived that does not belong at this point of the handshake.
            case unexpectedFrame = 8
            /// The handshake did not finish in time.
            case timedOut = 9
            /// A refusal byte this build does not know (from a newer peer).
            case unknown = 255
        }

        public var reason: Reason
        public var detail: String

        public init(_ reason: Reason, _ detail: String) {
            self.reason = reason
            self.detail = WireText.clipped(detail)
        }

        public var description: String { "\(reason): \(detail)" }
    }

    /// The other side of an established connection.
    public struct Peer: Hashable, Sendable, CustomStringConvertible {
        public var node: NodeID
        public var clusterName: String
        public var listenAddress: String
        public var version: UInt16
        /// Whether the peer proved it knows the cluster secret.
        public var authenticated: Bool

        public init(node: NodeID, clusterName: String, listenAddress: String, version: UInt16, authenticated: Bool) {
            self.node = node
            self.clusterName = clusterName
            self.listenAddress = listenAddress
            self.version = version
            self.authenticated = authenticated
        }

        public var description: String { "\(node)@\(listenAddress)" }
    }

    /// This node's side of every handshake.
    public struct Configuration: Sendable {
        public var clusterName: String
        public var node: NodeID
        public var listenAddress: String
        /// The cluster secret; `nil` when the cluster has none.
        public var authenticator: (any Authenticator)?
        public var version: UInt16

        public init(
            clusterName: String, node: NodeID, listenAddress: String, authenticator: (any Authenticator)? = nil,
            version: UInt16 = Handshake.protocolVersion
        ) {
            self.clusterName = clusterName
            self.node = node
            self.listenAddress = listenAddress
            self.authenticator = authenticator
            self.version = version
        }
    }

    /// The messages of the handshake, each in a `.handshake` frame with request id 0.
    public enum Message: Hashable, Sendable {
        case hello(Hello)
        case proof([UInt8])
        case refusal(Refusal)
    }
}
