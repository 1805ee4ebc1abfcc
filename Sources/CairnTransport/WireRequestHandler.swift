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

    /// Starts answering `request` without a task, if the handler can: called on the
    /// connection's event loop; `reply` is then called exactly once, from any thread. Returns
    /// false to have the server run `handle(request:from:)` in a task instead (the default).
    func start(request: WireMessage, from peer: Handshake.Peer,
               reply: @escaping @Sendable (Result<WireMessage, any Error>) -> Void) -> Bool

    /// Takes a one-way message without a task, if the handler can (called on the connection's
    /// event loop). Returns false to have the server run `handle(oneWay:from:)` in a task.
    func start(oneWay: WireMessage, from peer: Handshake.Peer) -> Bool
}

extension WireRequestHandler {
    public func start(request: WireMessage, from peer: Handshake.Peer,
                      reply: @escaping @Sendable (Result<WireMessage, any Error>) -> Void) -> Bool { false }

    public func start(oneWay: WireMessage, from peer: Handshake.Peer) -> Bool { false }
}
