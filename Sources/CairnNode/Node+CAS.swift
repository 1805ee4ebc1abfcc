import CairnCore
import CairnHTTP
import CairnNodeCore

/// Compare-and-set through the node core (`NodeCore+CAS.swift`): Paxos over the key's
/// primaries, one proposer per key on this node, acceptor state durable before each answer.
extension Node {
    /// Runs one CAS on `key`, in the instance that owns it.
    func compareAndSet(key: [UInt8], operation: CAS.Proposer.Operation) async throws -> CAS.Proposer.Outcome {
        try await instance(forKey: key).compareAndSet(key: key, operation: operation)
    }
}

extension NodeInstance {
    func compareAndSet(key: [UInt8], operation: CAS.Proposer.Operation) async throws -> CAS.Proposer.Outcome {
        _ = try currentRing()
        let client = newTicket()
        let random = random.next()
        return try await withCheckedThrowingContinuation { continuation in
            clientCAS[client] = continuation
            drive { core, now, wall in
                core.onClientCAS(client: client, key: key, operation: operation, random: random, now: now, wallNow: wall)
            }
        }
    }
}

extension NodeService {
    public func cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?) async throws -> CASOutcome {
        try outcome(await node.compareAndSet(key: key, operation: .compareAndSet(expected: expected, new: new)))
    }

    public func casWrite(key: [UInt8], new: [UInt8]?) async throws -> CASOutcome {
        try outcome(await node.compareAndSet(key: key, operation: .write(new: new)))
    }

    public func serialGet(key: [UInt8]) async throws -> ReadResult {
        switch try await node.compareAndSet(key: key, operation: .read) {
        case .read(let current): return ReadResult(siblings: current.map { [$0] } ?? [], context: CausalContext())
        case .siblings(let values): return ReadResult(siblings: values, context: CausalContext())
        case .unavailable, .unknown, .applied, .failed:
            throw KeyValueServiceError(
                .quorumUnavailable, "no majority of the key's replicas answered the serial read",
                required: node.configuration.replicas / 2 + 1, acknowledged: 0)
        }
    }

    public func replicaGet(key: [UInt8]) async throws -> ReplicaReadResult {
        let (object, isPrimary) = try await node.replicaRead(key: key)
        guard let object else { return ReplicaReadResult(read: .absent, isPrimary: isPrimary) }
        return ReplicaReadResult(read: ReadResult(object: object, at: node.shared.clusterWallClock()), isPrimary: isPrimary)
    }

    func outcome(_ outcome: CAS.Proposer.Outcome) throws -> CASOutcome {
        switch outcome {
        case .applied: return .applied
        case .failed(let current): return .failed(current: current)
        case .read(let current): return .failed(current: current)
        case .siblings(let values): return .siblings(values)
        case .unknown:
            throw KeyValueServiceError(.outcomeUnknown, "the new value was proposed and may or may not be chosen; read to find out")
        case .unavailable:
            throw KeyValueServiceError(
                .quorumUnavailable, "no majority of the key's replicas answered; nothing was written",
                required: node.configuration.replicas / 2 + 1, acknowledged: 0)
        }
    }
}
