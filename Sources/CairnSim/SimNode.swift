import CairnCore
import CairnNodeCore

/// One simulated node: what survives a crash (its disk) and what does not (its memory).
///
/// Every decision is the node core's (`NodeCore`, the code `cairnd` runs): the simulator
/// executes its commands over `SimNetwork` and this simulated disk.
struct SimNode {
    /// An object stored on this node, with the epoch this node mints the key's dots under
    /// (local, never replicated; see `MintEpochs`).
    struct Record {
        var object: SimObject
        var mintEpoch: UInt64?
    }

    /// A write held for an unreachable primary.
    struct HintRecord {
        var key: Int
        var object: SimObject
        var owner: NodeID
    }

    // MARK: durable (the node's disk)

    let index: Int
    let id: NodeID
    let address: String
    var store: [Int: Record] = [:]
    var hintRecords: [UInt64: HintRecord] = [:]
    var hintLog: [UInt64: HintLedger.Hint] = [:]
    var acceptors: [Int: CAS.AcceptorState] = [:]
    /// The highest ballot counter of every acceptor state collected (read states are raised to it).
    var acceptorFloor: UInt64 = 0
    var membershipState: Membership.State?
    /// Core instances this node runs (`Shard`); what each persisted of its handoff and its mint
    /// lease, by instance.
    let shardCount: Int
    var handoffStates: [Int: NodeCore.HandoffState] = [:]
    var mintLeases: [Int: UInt64] = [:]
    var disksLost = 0
    /// Whether the node is a member the simulation uses, one that has not joined yet, or one
    /// an operator removed (down for good).
    var role = Role.member
    /// How far this node's wall clock is off.
    var skewMilliseconds: Int64 = 0

    enum Role { case member, outsider, removed }

    // MARK: volatile (lost on a crash)

    var isUp = true
    /// Coordinators' writes applied but not yet durable, oldest first, with the record each
    /// replaced: a crash undoes them, newest first (the disk lost what it had not synced).
    var unsynced: [(key: Int, previous: Record?)] = []
    /// Bumped by every crash: timers of an earlier life are void.
    var generation: UInt64 = 0
    /// The node's core instances, by shard index (rebuilt from the disk at every boot; empty
    /// while down).
    var cores: [NodeCore] = []
    /// Client requests handed to the core, by ticket: who gets the answer.
    var clientTickets: [UInt64: (client: Int, operation: UInt64)] = [:]
    /// Peer requests handed to the core, by reply ticket: where the answer goes.
    var replyRoutes: [UInt64: (node: Int, call: UInt64, shard: Int)] = [:]
    /// The cores' requests still waiting for an answer, by instance.
    var openCalls: Set<ShardCall> = []
    var nextTicket: UInt64 = 1
    var trees: [Int: MerkleTree] = [:]

    init(index: Int, id: NodeID, shardCount: Int) {
        self.index = index
        self.id = id
        self.address = SimNode.address(index)
        self.shardCount = shardCount
    }

    /// The home instance (membership, the ring), while up.
    var core: NodeCore? { cores.first }

    /// Partitions still arriving on any instance.
    var pendingPartitions: [Int] { cores.flatMap(\.pendingPartitions).sorted() }

    /// Transfers still to be sent by any instance.
    var activeTransfers: [NodeCore.TransferProgress] { cores.flatMap(\.transferProgress).filter { $0.state.isActive } }

    /// Partitions whose acceptor states some instance is still gathering.
    var partitionsGatheringCASStates: [Int] { cores.flatMap(\.partitionsGatheringCASStates).sorted() }

    func casStatesAwaited(_ partition: Int) -> [NodeID] { cores.flatMap { $0.casStatesAwaited(partition) } }

    mutating func newTicket() -> UInt64 {
        defer { nextTicket += 1 }
        return nextTicket
    }

    static func address(_ index: Int) -> String { "sim:\(index)" }

    static func index(of address: String) -> Int? {
        guard address.hasPrefix("sim:") else { return nil }
        return Int(address.dropFirst(4))
    }

    static func nodeID(_ index: Int) -> NodeID { NodeID(high: 0xC0FF_EE00, low: UInt64(index + 1)) }

    /// The version hashes of `partition`'s keys, for rebuilding a tree after a restart.
    func rebuildTree(partition: Int, ring: Ring) -> MerkleTree {
        var tree = MerkleTree()
        for (key, record) in store where ring.partition(for: SimKeys.hash(key)) == partition {
            tree.insert(SimKeys.hash(key), versionHash: SimKeys.versionHash(record.object))
        }
        return tree
    }
}

/// A core request in flight: the instance that made it and its call number there.
struct ShardCall: Hashable {
    var shard: Int
    var call: UInt64
}
