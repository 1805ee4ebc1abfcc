import CairnCore
import CairnHTTP
import CairnNodeCore

/// The operator's anti-entropy orders for one partition (`POST /v1/cluster/antientropy`,
/// `cairn cluster antientropy`), carried out by the instance that owns the partition.
extension Node {
    func antiEntropy(_ order: AntiEntropyOrder) async throws -> JSONValue {
        let partition: Int
        switch order {
        case .exchange(let p), .rebuildTree(let p): partition = p
        case .pause, .resume, .interval:
            for instance in instances { await instance.steerAntiEntropy(order) }
            let (paused, interval) = await home.antiEntropySteering()
            shared.logger.notice("anti-entropy steered", metadata: [
                "cairn.order": "\(order)", "cairn.paused": "\(paused)", "cairn.interval_ms": "\(interval)",
            ])
            return .object(["paused": .bool(paused), "interval_ms": .integer(Int64(clamping: interval))])
        }
        guard let instance = instances.first(where: { $0.shard.owns(partition) }) else {
            throw KeyValueServiceError(.notAReplica, "this node does not replicate partition \(partition)")
        }
        switch order {
        case .exchange:
            let peers = try await instance.requestExchange(partition: partition)
            return .object(["partition": .integer(Int64(partition)), "peers": .array(peers.map { .string($0.description) })])
        case .pause, .resume, .interval:
            preconditionFailure("handled above")
        case .rebuildTree:
            let rebuilt = try await instance.rebuildTree(partition: partition)
            shared.logger.notice("Merkle tree rebuilt", metadata: [
                "cairn.partition": "\(partition)", "cairn.keys": "\(rebuilt.keys)", "cairn.changed": "\(rebuilt.rootBefore != rebuilt.rootAfter)",
            ])
            return .object([
                "partition": .integer(Int64(partition)), "keys": .integer(Int64(rebuilt.keys)),
                "root_before": .string(Self.hex(rebuilt.rootBefore)), "root_after": .string(Self.hex(rebuilt.rootAfter)),
                "changed": .bool(rebuilt.rootBefore != rebuilt.rootAfter),
            ])
        }
    }

    static func hex(_ value: UInt64) -> String { String(value, radix: 16).leftPadded(to: 16) }
}

extension NodeInstance {
    func steerAntiEntropy(_ order: AntiEntropyOrder) {
        switch order {
        case .pause: core.setAntiEntropyPaused(true)
        case .resume: core.setAntiEntropyPaused(false)
        case .interval(let milliseconds): core.setAntiEntropyInterval(milliseconds: milliseconds)
        case .exchange, .rebuildTree: break
        }
    }

    func antiEntropySteering() -> (paused: Bool, intervalMilliseconds: UInt64) { core.antiEntropySteering }

    func requestExchange(partition: Int) throws -> [NodeID] {
        let result: ([NodeID], [NodeCommand])
        do {
            result = try core.requestExchange(partition: partition, now: clockNow())
        } catch .notReplicatedHere {
            throw KeyValueServiceError(.notAReplica, "this node does not replicate partition \(partition) in its ring")
        } catch .noReachableReplica {
            throw KeyValueServiceError(.unavailable, "no other replica of partition \(partition) is reachable from this node", retryAfterSeconds: 1)
        }
        drive { _, _, _ in result.1 }
        return result.0
    }

    /// Rebuilds the tree of a partition this node replicates (a partition it does not is
    /// refused: opening it would make an empty copy).
    func rebuildTree(partition: Int) throws -> (keys: Int, rootBefore: UInt64, rootAfter: UInt64) {
        guard let ring = core.ring, partition < ring.partitionCount,
              ring.preferenceList(for: partition, n: configuration.replicas).contains(id) || store.partitions.contains(partition)
        else { throw KeyValueServiceError(.notAReplica, "this node holds no copy of partition \(partition)") }
        return try store.rebuildTree(partition)
    }
}
