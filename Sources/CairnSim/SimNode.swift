import CairnCore

/// One simulated node: what survives a crash (its disk) and what does not (its memory).
///
/// The node is data; the behaviour lives in `Simulation`, which plays the node shell: it feeds
/// events into the CairnCore machines kept here and carries out the effects they return, the
/// way `cairnd` does with sockets and files.
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
    /// The epoch this node mints hinted writes of a key under while it holds hints for it.
    var hintMintEpoch: [Int: UInt64] = [:]
    var acceptors: [Int: CAS.AcceptorState] = [:]
    var membershipState: Membership.State?
    var mintLease: UInt64 = 0
    var disksLost = 0

    // MARK: volatile (lost on a crash)

    var isUp = true
    /// Bumped by every crash: timers of an earlier life are void.
    var generation: UInt64 = 0
    var membership: Membership.Instance
    var mint: MintEpochs
    var ledger = HintLedger()
    var trees: [Int: MerkleTree] = [:]
    var writes: [UInt64: WriteState] = [:]
    var reads: [UInt64: ReadState] = [:]
    var proposers: [UInt64: ProposerState] = [:]
    /// CAS operations per key waiting for the key's running proposer (one per key at a time).
    var casWaiting: [Int: [PendingCAS]] = [:]
    var casRunning: Set<Int> = []
    var casCounter: [Int: UInt64] = [:]
    var nextRequest: UInt64 = 1
    var hintBatches: [UInt64: (owner: NodeID, hints: [UInt64])] = [:]
    var exchanges: [UInt64: ExchangeState] = [:]
    /// Anti-entropy work: (partition, peer) pairs to exchange, in order.
    var exchangePlan: [(partition: Int, peer: Int)] = []
    var urgentExchanges: [(partition: Int, peer: Int)] = []
    /// Forwarded writes already coordinated, by (forwarding node, its request id), oldest
    /// first and bounded: a duplicated forward must not mint a second dot for one client write.
    var recentForwards: Set<ForwardID> = []
    var recentForwardOrder: [ForwardID] = []

    struct ForwardID: Hashable {
        var from: Int
        var request: UInt64
    }

    /// Records a forwarded request; false if it was seen already.
    mutating func firstSighting(of forward: ForwardID) -> Bool {
        guard recentForwards.insert(forward).inserted else { return false }
        recentForwardOrder.append(forward)
        if recentForwardOrder.count > 4_096 { recentForwards.remove(recentForwardOrder.removeFirst()) }
        return true
    }

    enum Origin {
        case client(Int, operation: UInt64)
        case forwarded(from: Int, request: UInt64)
    }

    struct WriteState {
        var key: Int
        var machine: Quorum.WriteCoordinator<SimValue>
        var origin: Origin
        /// Replicas sent the object that have not answered (as in the node: a write's state
        /// lives until every replica acked or failed, so a late failure still leaves a hint).
        var outstanding: Set<Int> = []
        var replied = false
    }

    struct ReadState {
        var key: Int
        var machine: Quorum.ReadCoordinator<SimValue>
        var client: Int
        var operation: UInt64
    }

    struct PendingCAS {
        var client: Int
        var operation: UInt64
        var casOperation: CAS.Proposer.Operation
    }

    struct ProposerState {
        var key: Int
        var machine: CAS.Proposer
        var client: Int
        var operation: UInt64
    }

    struct ExchangeState {
        var partition: Int
        var peer: Int
        var exchange: MerkleExchange
    }

    init(index: Int, id: NodeID, membership: Membership.Instance) {
        self.index = index
        self.id = id
        self.address = SimNode.address(index)
        self.membership = membership
        self.mint = MintEpochs(node: id, persistedLease: 0)
    }

    static func address(_ index: Int) -> String { "sim:\(index)" }

    static func index(of address: String) -> Int? {
        guard address.hasPrefix("sim:") else { return nil }
        return Int(address.dropFirst(4))
    }

    static func nodeID(_ index: Int) -> NodeID { NodeID(high: 0xC0FF_EE00, low: UInt64(index + 1)) }

    /// Everything this node holds for `key`: its own object merged with its hints for it.
    func localObject(_ key: Int) -> SimObject? {
        var merged = store[key]?.object
        for record in hintRecords.values where record.key == key {
            merged = merged.map { DVVSet.sync($0, record.object) } ?? record.object
        }
        return merged
    }

    /// The version hashes of `partition`'s keys, for rebuilding a tree after a restart.
    func rebuildTree(partition: Int, ring: Ring) -> MerkleTree {
        var tree = MerkleTree()
        for (key, record) in store where ring.partition(for: SimKeys.hash(key)) == partition {
            tree.insert(SimKeys.hash(key), versionHash: SimKeys.versionHash(record.object))
        }
        return tree
    }
}
