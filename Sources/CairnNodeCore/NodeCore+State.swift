import CairnCore

/// The request tables and the bookkeeping of outstanding calls and storage operations.
extension NodeCore {
    /// Where a write's answer goes: a client of this node, or the node that forwarded it.
    enum WriteOrigin: Sendable {
        case client(UInt64)
        case forwarded(reply: UInt64)
    }

    struct WriteState: Sendable {
        var key: [UInt8]
        var machine: Quorum.WriteCoordinator<[UInt8]>
        /// Where the answer goes; `nil` once answered (the state lives on until every replica
        /// answered, so a late failure still leaves a hint).
        var origin: WriteOrigin?
        /// Replicas sent the object that have not answered yet (ack or failure).
        var outstanding: Set<NodeID> = []
        /// The local coordination asked for, while it waits for or holds the key.
        var coordination: Coordination?

        var partition: Int { machine.request.partition }
        var isSettled: Bool { origin == nil && coordination == nil && outstanding.isEmpty }
    }

    struct Coordination: Sendable {
        var context: CausalContext
        var sibling: Sibling<[UInt8]>
        var hintFor: NodeID?
    }

    /// The write a plain or conditional PUT or DELETE makes once its read answered.
    struct PlainWrite: Sendable {
        var sibling: Sibling<[UInt8]>
        /// `.current` or a conditional case: decides, from the read, the write's context.
        var supersedes: Supersedes
        var w: Int?
    }

    struct ReadState: Sendable {
        var key: [UInt8]
        var machine: Quorum.ReadCoordinator<[UInt8]>
        var client: UInt64
        /// For a plain or conditional write: the write to start once this read answers.
        var thenWrite: PlainWrite?
        var answered = false
        var partition: Int { machine.request.partition }
    }

    /// An outstanding peer request: what its answer feeds.
    enum Call: Sendable {
        case replicate(request: UInt64, to: NodeID)
        case forward(request: UInt64, to: NodeID)
        case read(request: UInt64, from: NodeID)
        case hints(delivery: UInt64)
        case exchangeHashes(session: UInt64)
        case exchangePage(session: UInt64)
        case cas(proposer: UInt64, from: NodeID)
        case handoffBatch(Handoff.Transfer, run: UInt64)
        case scan(scan: UInt64, from: NodeID)
        case reapCheck(from: NodeID)
        case casStates(partition: Int, from: NodeID, after: [UInt8]?)
    }

    /// What to do once a stored object (a merge or a hint) is durable.
    enum FollowUp: Sendable {
        case none
        /// Answer a peer's request with `ack` (or `nack` on failure).
        case respond(reply: UInt64)
        /// One item of a batch: the batch answers once every item is done.
        case group(UInt64)
        /// An object pulled by an anti-entropy exchange: counted when it changed the replica.
        case exchange(session: UInt64)
        /// A CAS commit applied to the object: persist the acceptor's `state`, then `reply`.
        case casCommit(key: [UInt8], job: AcceptorJob, state: CAS.AcceptorState, reply: CAS.Message?)
    }

    /// Storage jobs that answer together once every one is done.
    struct Group: Sendable {
        var done: GroupDone
        var remaining: Int
        var failure: String?
    }

    /// What a finished group answers.
    enum GroupDone: Sendable {
        /// A peer's hint batch: `ack`, or `nack` if an item failed.
        case hintBatch(reply: UInt64)
        /// A peer's handoff batch: `ack`, after telling the pending partition what arrived.
        case handoffBatch(reply: UInt64, partition: Int, source: NodeID, isLast: Bool)
        /// Hints re-homed to this node: one part of their delivery (no peer to answer).
        case delivery(UInt64)
        /// A page of a member's acceptor states merged; `next` is where the next page starts.
        case casStates(partition: Int, source: NodeID, next: [UInt8]?)
    }

    /// A batch of hints being handed back, possibly in parts to several replicas.
    struct Delivery: Sendable {
        var owner: NodeID
        var remaining: Int
        var failed = false
    }

    /// Work on one key that runs alone (see `KeyGate`).
    enum KeyJob: Sendable {
        /// Mint and store a client write (the write request's `coordination`).
        case coordinate(request: UInt64)
        /// Merge an object into the replica, or keep it as a hint for `hintFor`.
        case store(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>, hintFor: NodeID?, then: FollowUp)
        /// Remove the key's record if it is still `object` (a dead object every primary has
        /// confirmed).
        case reap(partition: Int, object: DVVSet<[UInt8]>)
    }

    /// An outstanding storage operation: what its completion feeds.
    enum Operation: Sendable {
        /// The coordinator's own record (and hints) read for minting.
        case coordinationRead(request: UInt64, key: [UInt8])
        /// The coordinated object stored as the replica.
        case coordinationWrite(request: UInt64, key: [UInt8], object: DVVSet<[UInt8]>)
        /// The coordinated object stored as a hint.
        case coordinationHint(request: UInt64, key: [UInt8], object: DVVSet<[UInt8]>, epoch: UInt64, hint: UInt64)
        /// This node's copy read for its own read coordinator.
        case localRead(request: UInt64)
        /// This node's copy read for a peer's read.
        case peerRead(reply: UInt64)
        case merge(key: [UInt8], partition: Int, then: FollowUp)
        case putHint(key: [UInt8], hint: UInt64, then: FollowUp)
        case hintsForDelivery(owner: NodeID)
        case exchangeTree(session: UInt64)
        case exchangePush(session: UInt64)
        case answerHashes(reply: UInt64, MerkleExchange.Request)
        case answerSegments(reply: UInt64)
        case acceptorRead(key: [UInt8], partition: Int, AcceptorJob)
        case acceptorWrite(key: [UInt8], AcceptorJob, reply: CAS.Message?)
        case brokenLocalRead(client: UInt64)
        case handoffRead(Handoff.Transfer, run: UInt64)
        case orphanScan
        case orphanTree(partition: Int)
        /// A former replica's copy removed (or kept, because it changed in between).
        case orphanDropped(partition: Int)
        /// A page of acceptor states examined for collection.
        case acceptorsCollected
        /// This node's part of a scan it coordinates.
        case scanPart(scan: UInt64)
        /// A peer's part of its scan; `declined` partitions go back as unavailable.
        case answerScan(reply: UInt64, declined: [Int])
        /// A page of dead keys of `partition` read for reaping.
        case reapScan(partition: Int, after: [UInt8]?)
        /// A peer's reap check: the objects of its keys read here.
        case answerReapCheck(reply: UInt64, ReapCheck)
        /// A dead key's removal.
        case reaped(key: [UInt8], partition: Int)
        /// A page of acceptor states read for a member collecting `partition`'s; `replicated`:
        /// this node replicated the partition when the request arrived.
        case answerCASStates(reply: UInt64, partition: Int, replicated: Bool, peer: NodeID)
    }

    mutating func newCall(_ call: Call) -> UInt64 {
        let number = newNumber()
        calls[number] = call
        return number
    }

    mutating func newOperation(_ operation: Operation) -> UInt64 {
        let number = newNumber()
        operations[number] = operation
        return number
    }

    /// The key's hints merged into its record: what this node holds for the key.
    public static func merged(_ record: DVVSet<[UInt8]>?, _ hints: [DVVSet<[UInt8]>]) -> DVVSet<[UInt8]>? {
        var object = record
        for hint in hints { object = object.map { DVVSet.sync($0, hint) } ?? hint }
        return object
    }
}
