import CairnCore
import CairnNodeCore
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
    /// The highest ballot counter of every state collected, kept in `DIR.floor` (decimal);
    /// every state read is raised to it (`CAS.AcceptorState.raised(toFloor:)`).
    private(set) var floor: UInt64
    let floorPath: String

    init(directory: String, options: StorageOptions, limits: WireLimits, logger: Logger) throws {
        engine = try StorageEngine(directory: directory, options: options, logger: logger)
        self.limits = limits
        floorPath = directory + ".floor"
        if let bytes = try DurableFiles.read(floorPath) {
            guard let value = UInt64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }) else {
                throw NodeError.corruptFile(floorPath, "not a ballot counter")
            }
            floor = value
        } else {
            floor = 0
        }
    }

    func state(_ key: [UInt8]) throws -> CAS.AcceptorState {
        try storedState(key).raised(toFloor: floor)
    }

    private func storedState(_ key: [UInt8]) throws -> CAS.AcceptorState {
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

    /// One page of collection (`StorageCommand.collectAcceptors`): the floor is made durable
    /// before any state goes, and each state is removed only if it is still collectable when
    /// its removal is appended (no suspension between the check and the append; a removal a
    /// crash loses leaves a state the floor already covers).
    nonisolated(nonsending) func collect(after: [UInt8]?, limit: Int, belowCounter: UInt64) async throws -> (count: Int, next: [UInt8]?) {
        let keys = try engine.scan(prefix: [], after: after, limit: limit + 1)
        let page = try keys.map { (key: $0, state: try storedState($0)) }
        let plan = StorageResult.acceptorCollection(page: page, limit: limit, belowCounter: belowCounter)
        if plan.floor > floor {
            try DurableFiles.writeAtomically(Array("\(plan.floor)\n".utf8), to: floorPath)
            floor = plan.floor
        }
        var removed = 0
        for key in plan.remove where try storedState(key).isCollectable(below: belowCounter) {
            try await engine.delete(key)
            removed += 1
        }
        return (removed, plan.next)
    }

    /// One page of states in key order (`StorageCommand.readAcceptorStates`).
    func page(after: [UInt8]?, limit: Int) throws -> (states: [CAS.KeyedAcceptorState], next: [UInt8]?) {
        let keys = try engine.scan(prefix: [], after: after, limit: limit)
        let states = try keys.map { CAS.KeyedAcceptorState(key: $0, state: try state($0)) }
        return (states, keys.count == limit ? keys.last : nil)
    }

    func close() throws { try engine.close() }
}
