import CairnCore
import CairnTransport
import CairnWire

/// Answers what peers send this node, by handing it to the node's actor.
struct NodeWireHandler: WireRequestHandler {
    let node: Node

    func handle(request: WireMessage, from peer: Handshake.Peer) async throws -> WireMessage {
        switch request {
        case .read(let read):
            return .readReply(await node.readLocal(read))
        case .replicate(let replicate):
            do {
                try await node.storeIncoming(key: replicate.key, partition: replicate.partition, object: replicate.object,
                                             hintFor: replicate.hintFor)
                return .ack
            } catch {
                return .nack(reason: "\(error)")
            }
        case .forwardedWrite(let forwarded):
            return .writeOutcome(await node.coordinateForwarded(forwarded))
        case .hintBatch(let items):
            do {
                try await node.receiveHints(items)
                return .ack
            } catch {
                return .nack(reason: "\(error)")
            }
        case .handoffBatch(let batch):
            do {
                try await node.checkPartition(batch.partition)
                for item in batch.items {
                    try await node.storeIncoming(key: item.key, partition: batch.partition, object: item.object, hintFor: nil)
                }
                await node.handoffReceived(partition: batch.partition, from: peer.node, isLast: batch.isLast)
                return .ack
            } catch {
                return .nack(reason: "\(error)")
            }
        case .merkleHashesRequest(let partition, let exchange):
            return try await node.merkleHashes(partition: partition, exchange)
        case .segmentObjectsRequest(let segments):
            return .segmentObjects(try await node.segmentObjects(segments))
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
        case .readRepair(let repair):
            try? await node.storeIncoming(key: repair.key, partition: repair.partition, object: repair.object, hintFor: repair.hintFor)
        default:
            break
        }
    }
}

extension Node {
    func readLocal(_ request: ReadRequest) -> ReadReply {
        do { try checkPartition(request.partition) } catch { return .failed(reason: "\(error)") }
        guard !isPending(request.partition) else {
            return .failed(reason: "partition \(request.partition) is still being handed to this node")
        }
        do {
            return try localObject(request.key, partition: request.partition).map { .found($0) } ?? .notFound
        } catch {
            return .failed(reason: "\(error)")
        }
    }

    func merkleHashes(partition: Int, _ request: MerkleExchange.Request) throws -> WireMessage {
        do { try checkPartition(partition) } catch { return .nack(reason: "\(error)") }
        let tree = try store.tree(partition)
        let width = 1 << (tree.fanoutBits * request.level)
        guard request.level >= 0, request.level <= tree.levels, request.indices.allSatisfy({ $0 >= 0 && $0 < width }) else {
            return .nack(reason: "Merkle request outside the tree: level \(request.level)")
        }
        return .merkleHashes(tree.hashes(level: request.level, indices: request.indices))
    }
}
