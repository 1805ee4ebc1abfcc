import CairnCore
import CairnWire

/// The error of the transport: why a request or a connection to a peer failed.
///
/// Operating conditions, never traps: a peer that is down, slow, from another cluster or
/// overloaded is normal in a cluster. Each error names the peer address it concerns.
public struct TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// No answer within the request's timeout (the request may still take effect).
        case timedOut
        /// Too many requests or bytes are outstanding to this peer: refused at once, nothing sent.
        case overloaded
        /// The connection closed after the request was sent (it may or may not have taken effect).
        case connectionClosed
        /// The TCP connection could not be made (refused, unreachable, connect timeout).
        case connectFailed
        /// A recent connection attempt failed and the retry delay has not passed: refused at
        /// once without trying, so callers do not pile up behind a dead peer.
        case unreachable
        /// The handshake refused the peer, or the peer refused this node (`refusal` says why).
        case refused
        /// The peer answered with an error frame (`remote` says why).
        case remote
        /// The message does not fit the frame limit.
        case tooLarge
        /// The answer did not decode or was not a response.
        case badResponse
        /// The transport is shutting down.
        case shutdown
        /// The calling task was cancelled.
        case cancelled
        /// Binding or listening failed.
        case bindFailed
        /// A peer address that does not parse or resolve.
        case badAddress
    }

    public var code: Code
    /// The peer's `host:port`.
    public var peer: String
    public var message: String
    /// Why the handshake was refused, for `.refused`.
    public var refusal: Handshake.Refusal?
    /// Whether the refusal came from the peer (`true`) or from this node.
    public var refusedByPeer: Bool
    /// The peer's error frame, for `.remote`.
    public var remote: ErrorReply?

    public init(
        _ code: Code, peer: String, _ message: String, refusal: Handshake.Refusal? = nil, refusedByPeer: Bool = false,
        remote: ErrorReply? = nil
    ) {
        self.code = code
        self.peer = peer
        self.message = message
        self.refusal = refusal
        self.refusedByPeer = refusedByPeer
        self.remote = remote
    }

    public var description: String {
        var text = "\(code.rawValue) (peer \(peer)): \(message)"
        if let refusal { text += " [\(refusedByPeer ? "refused by peer" : "refused"): \(refusal)]" }
        if let remote { text += " [remote: \(remote)]" }
        return text
    }
}
