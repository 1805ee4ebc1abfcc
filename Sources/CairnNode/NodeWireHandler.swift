import CairnCore
import CairnNodeCore
import CairnTransport
import CairnWire

/// Answers what peers send this node, by handing each message to the core instance that owns
/// its partition (`ShardRouter`; membership to the home instance), on that instance's loop.
struct NodeWireHandler: WireRequestHandler {
    let node: Node

    func handle(request: WireMessage, from peer: Handshake.Peer) async throws -> WireMessage {
        let inner = request.untraced.message
        guard NodeCore.handles(request: inner) else { return .nack(reason: "not a request: \(request.messageType)") }
        return await node.instance(for: inner).answer(request, from: peer.node)
    }

    func handle(oneWay: WireMessage, from peer: Handshake.Peer) async {
        await node.instance(for: oneWay).receiveOneWay(oneWay, from: peer.node)
    }

    /// Without a task: straight into the instance when the connection shares its loop.
    func start(request: WireMessage, from peer: Handshake.Peer,
               reply: @escaping @Sendable (Result<WireMessage, any Error>) -> Void) -> Bool {
        let inner = request.untraced.message
        guard NodeCore.handles(request: inner) else {
            reply(.success(.nack(reason: "not a request: \(request.messageType)")))
            return true
        }
        node.instance(for: inner).onLoop { $0.answer(request, from: peer.node) { reply(.success($0)) } }
        return true
    }

    func start(oneWay: WireMessage, from peer: Handshake.Peer) -> Bool {
        node.instance(for: oneWay).onLoop { $0.receiveOneWay(oneWay, from: peer.node) }
        return true
    }
}
