import CairnCore
import CairnWire

/// What a node does with the requests and one-way messages its peers send.
///
/// Called off the event loop, concurrently (at most `maxConcurrentRequestsPerConnection` at a
/// time per connection). Throw an `ErrorReply` to choose the error frame's code; any other
/// error is answered `handlerFailed` with its description.
public protocol WireRequestHandler: Sendable {
    /// Answers a request with a response message (`WireMessage.role == .response`).
    func handle(request: WireMessage, from peer: Handshake.Peer) async throws -> WireMessage
    /// Takes a one-way message (membership gossip, read repair, CAS commit).
    func handle(oneWay: WireMessage, from peer: Handshake.Peer) async
}
