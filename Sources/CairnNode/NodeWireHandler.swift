import CairnCore
import CairnNodeCore
import CairnTransport
import CairnWire

/// Answers what peers send this node, by handing it to the node core through the actor.
struct NodeWireHandler: WireRequestHandler {
    let node: Node

    func handle(request: WireMessage, from peer: Handshake.Peer) async throws -> WireMessage {
        guard NodeCore.handles(request: request) else { return .nack(reason: "not a request: \(request.messageType)") }
        return await node.answer(request, from: peer.node)
    }

    func handle(oneWay: WireMessage, from peer: Handshake.Peer) async {
        await node.receiveOneWay(oneWay, from: peer.node)
    }

    /// Without a task: straight into the actor when the connection shares its loop.
    func start(request: WireMessage, from peer: Handshake.Peer,
               reply: @escaping @Sendable (Result<WireMessage, any Error>) -> Void) -> Bool {
        guard NodeCore.handles(request: request) else {
            reply(.success(.nack(reason: "not a request: \(request.messageType)")))
            return true
        }
        node.onLoop { $0.answer(request, from: peer.node) { reply(.success($0)) } }
        return true
    }

    func start(oneWay: WireMessage, from peer: Handshake.Peer) -> Bool {
        node.onLoop { $0.receiveOneWay(oneWay, from: peer.node) }
        return true
    }
}
