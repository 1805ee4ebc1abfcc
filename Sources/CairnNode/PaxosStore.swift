import CairnCore
import CairnNodeCore
import CairnStorage
import CairnWire
import Logging
import NIOCore
import Synchronization

/// The Paxos acceptor state of every key this node is a CAS acceptor for, durable like data
/// (DESIGN.md §2, "Compare-and-set"): one storage engine, keyed by the key, each value the
/// state in the wire encoding of a promise for that key (`docs/protocol.md`: key, promised
/// ballot, accepted proposal, committed proposal).
///
/// Shared by the node's core instances: each reads and saves the states of its own keys (its
/// key gate orders them), while the home instance collects over every key. `appends` orders
/// a collection's check-then-remove against the saves of the other instances, so a state saved
/// meanwhile is never removed unseen.
final class PaxosStore: Sendable {
    let engine: StorageEngine
    let limits: WireLimits
    /// The highest ballot counter of every state collected, kept in `DIR.floor` (decimal);
    /// every state read is raised to it (`CAS.AcceptorState.raised(toFloor:)`).
    private let floorValue: Atomic<UInt64>
    var floor: UInt64 { floorValue.load(ordering: .acquiring) }
    let floorPath: String
    /// Held for each append of a state (not for its fsync) and for each check-then-remove.
    private let appends = Mutex<Void>(())

    init(directory: String, options: StorageOptions, limits: WireLimits, logger: Logger) throws {
        engine = try StorageEngine(directory: directory, options: options, logger: logger)
        self.limits = limits
        floorPath = directory + ".floor"
        if let bytes = try DurableFiles.read(floorPath) {
            guard let value = UInt64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }) else {
                throw NodeError.corruptFile(floorPath, "not a ballot counter")
            }
            floorValue = Atomic(value)
        } else {
            floorValue = Atomic(0)
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
        let bytes = Array(message.encodedPayload().readableBytesView)
        try await appends.withLock { _ in try engine.appendPut(key, bytes) }.durable()
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
            // Only the home instance collects: no other writer of the floor.
            try DurableFiles.writeAtomically(Array("\(plan.floor)\n".utf8), to: floorPath)
            floorValue.store(plan.floor, ordering: .releasing)
        }
        var removals: [StorageEngine.PendingWrite] = []
        for key in plan.remove {
            let removal = try appends.withLock { _ -> StorageEngine.PendingWrite? in
                try storedState(key).isCollectable(below: belowCounter) ? try engine.appendDelete(key) : nil
            }
            if let removal { removals.append(removal) }
        }
        for removal in removals { try await removal.durable() }
        return (removals.count, plan.next)
    }

    /// One page of states in key order (`StorageCommand.readAcceptorStates`).
    func page(after: [UInt8]?, limit: Int) throws -> (states: [CAS.KeyedAcceptorState], next: [UInt8]?) {
        let keys = try engine.scan(prefix: [], after: after, limit: limit)
        let states = try keys.map { CAS.KeyedAcceptorState(key: $0, state: try state($0)) }
        return (states, keys.count == limit ? keys.last : nil)
    }

    func close() throws { try engine.close() }
}
