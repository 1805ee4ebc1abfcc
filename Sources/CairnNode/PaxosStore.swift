import CairnCore
import CairnStorage
import CairnWire
import Logging
import NIOCore

/// The Paxos acceptor state of every key this node is a CAS acceptor for, durable like data
/// (DESIGN.md §2, "Compare-and-set"): one storage engine, keyed by the key, each value the
/// state in the wire encoding of a promise for that key (`docs/protocol.md`: key, promised
/// ballot, accepted proposal, committed proposal). Used only from the node's actor.
final class PaxosStore {
    let engine: StorageEngine
    let limits: WireLimits

    init(directory: String, options: StorageOptions, limits: WireLimits, logger: Logger) throws {
        engine = try StorageEngine(directory: directory, options: options, logger: logger)
        self.limits = limits
    }

    func state(_ key: [UInt8]) throws -> CAS.AcceptorState {
        guard let bytes = try engine.get(key) else { return CAS.AcceptorState() }
        let decoded = try WireMessage(
            type: WireMessage.MessageType.casPromise.rawValue, payload: ByteBuffer(bytes: bytes), limits: limits)
        guard case .cas(_, .promise(let promised, let accepted, let committed, _)) = decoded else {
            throw NodeError.corruptFile(engine.directory, "a Paxos state that is not a promise")
        }
        return CAS.AcceptorState(promised: promised, accepted: accepted, committed: committed)
    }

    /// Makes `state` durable (as the engine's durability defines) before the acceptor answers.
    nonisolated(nonsending) func save(_ key: [UInt8], _ state: CAS.AcceptorState) async throws {
        let message = WireMessage.cas(key: key, .promise(state.promised, accepted: state.accepted, committed: state.committed, object: nil))
        try await engine.put(key, Array(message.encodedPayload().readableBytesView))
    }

    func close() throws { try engine.close() }
}
