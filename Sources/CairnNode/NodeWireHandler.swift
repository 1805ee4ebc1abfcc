import CairnCore
import CairnTransport
import CairnWire

/// Answers what peers send this node, by handing it to the node's actor.
struct NodeWireHandler: WireRequestHandler {
    let node: Node

    func handle(request: WireMessage, from peer: Handshake.Peer) async throws -> WireMessage {
        switch request {
        case .read, .replicate, .forwardedWrite, .hintBatch, .merkleHashesRequest, .segmentObjectsRequest:
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
        case .cas(let key, let message):
            guard let reply = try await node.acceptorReceived(message, key: key) else {
                return .nack(reason: "no answer to \(request.messageType)")
            }
            return .cas(key: key, reply)
        default:
            return .nack(reason: "not a request: \(request.messageType)")
        }
    }

    func handle(oneWay: WireMessage, from peer: Handshake.Peer) async {
        switch oneWay {
        case .membership(let message):
            await node.receiveMembership(message)
        case .cas(let key, let message):
            _ = try? await node.acceptorReceived(message, key: key)
        case .readRepair:
            await node.receiveOneWay(oneWay, from: peer.node)
        default:
            break
        }
    }
}
