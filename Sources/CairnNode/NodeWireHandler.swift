import CairnCore
import CairnTransport
import CairnWire

/// Answers what peers send this node, by handing it to the node's actor.
struct NodeWireHandler: WireRequestHandler {
    let node: Node

    func handle(request: WireMessage, from peer: Handshake.Peer) async throws -> WireMessage {
        switch request {
        case .read, .replicate, .forwardedWrite, .hintBatch, .merkleHashesRequest, .segmentObjectsRequest, .cas:
            return await node.answer(request, from: peer.node)
        case .handoffBatch(let batch):
            do {
                try await node.checkPartition(batch.partition)
                for item in batch.items {
                    try await node.mergeLocally(key: item.key, partition: batch.partition, object: item.object)
                }
                await node.handoffReceived(partition: batch.partition, from: peer.node, isLast: batch.isLast)
                return .ack
            } catch {
                return .nack(reason: "\(error)")
            }
        default:
            return .nack(reason: "not a request: \(request.messageType)")
        }
    }

    func handle(oneWay: WireMessage, from peer: Handshake.Peer) async {
        switch oneWay {
        case .membership(let message):
            await node.receiveMembership(message)
        case .cas, .readRepair:
            await node.receiveOneWay(oneWay, from: peer.node)
        default:
            break
        }
    }
}
