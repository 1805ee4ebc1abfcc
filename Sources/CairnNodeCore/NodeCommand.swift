import CairnCore

/// What a `NodeCore` asks its executor to do. The executor (`cairnd`'s `Node` over sockets and
/// files, or the simulator over `SimNetwork` and a simulated disk) carries out each command
/// and reports its completion as an event.
///
/// Ordering duties of the executor (as etcd's raft states them for `Ready`):
/// 1. Commands are carried out in the order they are returned.
/// 2. `.persistMintLease` is durable before any later command is carried out: the write that
///    follows mints dots under an epoch of that lease, and a crash must never reuse one.
/// 3. A `.storage` operation reports its completion (`NodeCore.onStorage`) only once it is
///    durable under the node's durability policy; the core acknowledges writes and hints to
///    clients and peers only after that completion.
/// 4. Every `.request` is answered exactly once through `NodeCore.onResponse`: with the reply,
///    or with `nil` when it failed, could not be sent, or `timeoutMilliseconds` passed.
/// 5. A `.schedule` fires `NodeCore.onTimer` at or after its instant, once.
///
/// 6. A node that runs several instances (`Shard`) hands every `.publishCluster` of the home
///    instance to each other instance (`NodeCore.onCluster`), in the order published, and after
///    each event of any instance hands what `NodeCore.statusIfChanged(now:)` returns to every
///    other instance (`NodeCore.onShardStatus`). Peer messages, client requests and operator
///    actions go to the instance `ShardRouter` names; answers, storage completions and timers
///    go back to the instance that issued them.
///
/// The core never issues two storage operations on one key at a time, so the executor may run
/// storage operations of different keys concurrently (and share fsyncs between them); the
/// instances of one node own disjoint partitions, so this holds across them too.
public enum NodeCommand: Sendable {
    /// A one-way message to a peer (lost if the peer is unreachable).
    case send(to: NodeID, WireMessage)
    /// A one-way message to an address (gossip to seeds, which may not be members yet).
    case sendTo(address: String, WireMessage)
    /// Store the membership state durably (best effort: gossip repairs a lost update).
    case persistMembership(Membership.State)
    /// Store the handoff state durably (owed transfers with cursors, pending partitions).
    case persistHandoff(NodeCore.HandoffState)
    /// A request to a peer; its answer comes back through `onResponse(call:…)`.
    case request(call: UInt64, to: NodeID, WireMessage, timeoutMilliseconds: UInt64)
    /// The answer to a peer's request that reached the core as `onPeerRequest(reply:…)`.
    case respond(reply: UInt64, WireMessage)
    /// Call `onTimer` once the monotonic clock reaches `at`.
    case schedule(NodeTimer, at: MonotonicTime)
    /// A storage operation; its completion comes back through `onStorage(operation:…)`.
    case storage(operation: UInt64, StorageCommand)
    /// Forget a hint (delivered or dropped). Needs no completion.
    case deleteHint(UInt64)
    /// Store the mint-epoch lease durably before carrying out the commands that follow.
    case persistMintLease(UInt64)
    /// The answer to a client read started with `onClientRead(client:…)`.
    case replyRead(client: UInt64, ClientReadResult)
    /// The answer to a client write started with `onClientWrite(client:…)`.
    case replyWrite(client: UInt64, ClientWriteResult)
    /// The answer to a client scan started with `onClientScan(client:…)`.
    case replyScan(client: UInt64, Result<ScanPageResult, RequestFailure>)
    /// The answer to a CAS started with `onClientCAS(client:…)`.
    case replyCAS(client: UInt64, Result<CAS.Proposer.Outcome, RequestFailure>)
    /// The home instance's view of the cluster changed: hand it to every other instance of the
    /// node (`onCluster`), in order. Issued only when the node runs several instances.
    case publishCluster(ClusterSnapshot)
    /// Something the shell may count, log or act on; carrying it out is optional.
    case notice(NodeNotice)
}

/// A storage operation of the core, on the node's replica and hint stores.
public enum StorageCommand: Sendable, Equatable {
    /// This node's record of `key` in `partition`, and the objects of the hints `hints`
    /// (hints this node holds for the same key). Completes with `.read`.
    case read(key: [UInt8], partition: Int, hints: [UInt64])
    /// Replace the record of `key` (read as `previous`) with `record`. Completes with `.done`.
    case write(key: [UInt8], partition: Int, record: ReplicaRecord, previous: ReplicaRecord?)
    /// Merge `object` into the record of `key` by `DVVSet.sync`, keeping its mint epoch.
    /// Completes with `.merged(changed:)`.
    case merge(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>)
    /// Store a hint durably. Completes with `.done`.
    case putHint(HintEntry)
    /// The entries of these hints (missing ones are left out). Completes with `.hints`.
    case readHints([UInt64])
    /// The Merkle tree of `partition` (nil when this node holds no store of it). Completes
    /// with `.tree`.
    case readTree(partition: Int)
    /// The keys of `partition` whose hash falls in `segments` of its tree, in key order after
    /// `after`, at most `limit`, with their objects. Completes with `.objects`.
    case segmentObjects(partition: Int, segments: [Int], after: [UInt8]?, limit: Int)
    /// The first `limit` live keys of `partitions` together (neither all tombstones nor expired
    /// at `wallNow`) that start with `prefix` and sort after `after`, in byte order: list each
    /// partition's first `limit + 1` matching keys from its key index (a partition this node
    /// holds no store of lists none) and hand them to `ScanReply.merging`, which reads records
    /// in key order, at most `examineLimit`. Completes with `.scanned`.
    case scan(partitions: [Int], prefix: [UInt8], after: [UInt8]?, limit: Int, values: Bool, examineLimit: Int,
              wallNow: WallClockTime)
    /// The Paxos acceptor state of `key` (the initial state when none is stored) and this
    /// node's replica object of the key in `partition` (nil: none). Completes with `.acceptor`.
    case readAcceptor(key: [UInt8], partition: Int)
    /// Store the acceptor state of `key` durably. Completes with `.done`.
    case writePaxos(key: [UInt8], CAS.AcceptorState)
    /// Records of `partition` in key order after `after`, up to about `maxBytes` and at most
    /// `maxKeys`. Completes with `.batch`.
    case readBatch(partition: Int, after: [UInt8]?, maxBytes: Int, maxKeys: Int)
    /// The partitions this node holds a store of. Completes with `.partitions`.
    case heldPartitions
    /// Reaping: of the keys of `partition` after `after` in key order, the next `limit`
    /// examined, those whose object is dead at `wallNow` (`DVVSet.isDead(atMilliseconds:)`):
    /// list `limit + 1` keys and hand them to `StorageResult.reapCandidates`, which completes
    /// it with `.objects(found, next:)`, `next` the last key examined when more keys follow
    /// (nil: the partition is done).
    case reapCandidates(partition: Int, after: [UInt8]?, limit: Int, wallNow: WallClockTime)
    /// Every copy this node holds of each of `keys`: its record in `partition` (if any) and
    /// the objects of the hints `hints[i]` for `keys[i]`. Completes with `.copies`, one list
    /// per key, in order.
    case readCopies(partition: Int, keys: [[UInt8]], hints: [[UInt64]])
    /// Remove the record of `key` durably if its object is still `expected`. Completes with
    /// `.merged(changed: removed, object: expected)`.
    case reap(key: [UInt8], partition: Int, expected: DVVSet<[UInt8]>)
    /// Remove this node's whole copy of `partition` durably (its store and Merkle tree) if its
    /// tree's root is still `root` (nothing was written to it since the decision). Completes
    /// with `.merged(changed: removed, object: DVVSet())`.
    case dropPartition(partition: Int, root: UInt64)
    /// Collect old acceptor states: of the keys with a stored state after `after` in key
    /// order, the next `limit`, those `isCollectable(below: belowCounter)` — still so when
    /// each is removed — are removed, after the node's floor is raised durably to the highest
    /// counter among them (`StorageResult.acceptorCollection` plans it). Completes with
    /// `.collected(count:next:)`. Every state the executor reads for `.readAcceptor` is
    /// `raised(toFloor:)`.
    case collectAcceptors(after: [UInt8]?, limit: Int, belowCounter: UInt64)
    /// The stored acceptor states after `after` in key order, the next `limit` of them (each
    /// `raised(toFloor:)` as `.readAcceptor` reads it). Completes with
    /// `.acceptorStates(states, next:)`, `next` the last key when `limit` were listed (nil: no more).
    case readAcceptorStates(after: [UInt8]?, limit: Int)
}

/// The completion of a `StorageCommand`.
public enum StorageResult: Sendable {
    case read(ReplicaRecord?, hintObjects: [DVVSet<[UInt8]>])
    case done
    case merged(changed: Bool, object: DVVSet<[UInt8]>)
    case hints([HintEntry])
    case tree(MerkleTree?)
    case acceptor(CAS.AcceptorState, object: DVVSet<[UInt8]>?)
    case partitions([Int])
    /// A handoff batch; `isLast` when nothing follows it in the partition.
    case batch([KeyedObject], bytes: Int, isLast: Bool)
    /// A page of objects; `next` is where the following page starts (nil: no more).
    case objects([KeyedObject], next: [UInt8]?)
    /// What `.scan` found.
    case scanned(ScanReply)
    /// What `.readCopies` found: the copies of each key, in order.
    case copies([[DVVSet<[UInt8]>]])
    /// Acceptor states removed by `.collectAcceptors`; `next` is where the following page starts.
    case collected(count: Int, next: [UInt8]?)
    /// A page of `.readAcceptorStates`.
    case acceptorStates([CAS.KeyedAcceptorState], next: [UInt8]?)
    case failed(StorageFailure)
}

/// A storage operation that failed (disk, corrupt record); the message is for logs and peers.
public struct StorageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An object stored on this node with the epoch this node mints the key's dots under (local,
/// never replicated; see `MintEpochs`). `storageTag` is the executor's own cache (the node
/// keeps the version hash of the stored encoding there); the core passes it back unchanged.
public struct ReplicaRecord: Sendable, Equatable {
    public var object: DVVSet<[UInt8]>
    public var mintEpoch: UInt64?
    public var storageTag: UInt64?

    public init(object: DVVSet<[UInt8]>, mintEpoch: UInt64?, storageTag: UInt64? = nil) {
        self.object = object
        self.mintEpoch = mintEpoch
        self.storageTag = storageTag
    }

    public static func == (a: ReplicaRecord, b: ReplicaRecord) -> Bool { a.object == b.object && a.mintEpoch == b.mintEpoch }
}

/// A hint as stored: the ledger's entry, the key and the object it carries to its owner.
public struct HintEntry: Sendable, Equatable {
    public var hint: HintLedger.Hint
    public var key: [UInt8]
    public var object: DVVSet<[UInt8]>

    public init(hint: HintLedger.Hint, key: [UInt8], object: DVVSet<[UInt8]>) {
        self.hint = hint
        self.key = key
        self.object = object
    }
}

/// What the core's timers are for.
public enum NodeTimer: Sendable, Hashable {
    case write(request: UInt64, Quorum.Timer)
    case read(request: UInt64, Quorum.Timer)
    case cas(proposer: UInt64, CAS.Proposer.Timer)
    /// Gossip, heartbeats and failure detection.
    case membership
    /// Hints, pending partitions, the next anti-entropy exchange.
    case maintenance
    /// The pause before a requeued transfer.
    case handoff
    /// A running transfer's throttle or retry (of its `run`; an earlier run's timer does nothing).
    case handoffSender(Handoff.Transfer, run: UInt64)
}

/// The answer to a client read.
public enum ClientReadResult: Sendable, Equatable {
    case found(DVVSet<[UInt8]>)
    case notFound
    case failed(RequestFailure)
}

/// The answer to a client write: the context of the stored object, or why it failed.
public enum ClientWriteResult: Sendable, Equatable {
    case stored(CausalContext)
    /// A conditional write whose read did not meet its condition: nothing was written. The
    /// context is what the read found (empty when no replica held the key).
    case preconditionFailed(CausalContext)
    case failed(RequestFailure)
}

/// Why a client request failed, for the edge (HTTP, RESP) to map to its own errors.
public enum RequestFailure: Error, Sendable, Equatable {
    /// The quorum machine's verdict (too few replicas, timeout, refused, …).
    case quorum(Quorum.Failure)
    /// The node has no ring yet (it has not joined a cluster).
    case noRing
    /// Too many requests in flight on this node; retry later.
    case overloaded(limit: Int)
    /// No replica of `partition` could answer (a scan needs one per partition).
    case partitionUnavailable(partition: Int)
}

/// Events a shell may count or act on.
public enum NodeNotice: Sendable, Equatable {
    /// A read found stale replicas and sent them the merged object.
    case readRepair
    case hintStored
    case hintsDelivered(count: Int)
    /// A hint was dropped (too old, over the byte bound): exchange `partition` with `owner`.
    case hintDropped(partition: Int, owner: NodeID, reason: HintLedger.DropReason)
    /// An anti-entropy exchange ended: `segments` differed, `repaired` objects changed here.
    case exchanged(partition: Int, peer: NodeID, segments: Int, repaired: Int)
    case ringChanged(version: UInt64, members: Int)
    case memberChanged(Membership.Member)
    case reachabilityChanged(NodeID, reachable: Bool)
    case rejectedOtherCluster(from: String, clusterName: String)
    /// Gossip from `from` held an entry or a ring this node did not take (`Membership.Refusal`).
    case membershipRefused(Membership.Refusal, from: NodeID)
    /// This node finished leaving: it no longer serves.
    case left
    /// This node's clock correction crossed the bound (either way): its machine's clock is
    /// `correctionMilliseconds` behind the cluster's median (ahead when negative); or most
    /// members' clocks are over a day away (`outOfRange`), beyond what it corrects.
    case clockSkew(correctionMilliseconds: Int64, boundMilliseconds: UInt64, outOfRange: Bool)
    case handoffPlanned(outgoing: Int, pending: Int)
    case handoffKeysSent(Int)
    case transferDone(Handoff.Transfer, keys: Int)
    /// A transfer ended for good (done, or failed: anti-entropy covers it).
    case transferEnded(Handoff.Transfer, done: Bool)
    case partitionSettled(partition: Int, reason: String)
    /// This node has merged the acceptor states of a partition it gained from every member
    /// that may have been an acceptor of it: it promises and accepts for it from now on.
    case casStatesGathered(partition: Int)
    /// This node holds a copy of a partition it does not replicate and sends it to the
    /// partition's primaries.
    case orphanHandedOff(partition: Int)
    /// Every current primary holds this node's copy of a partition it no longer replicates:
    /// the copy was removed.
    case orphanDropped(partition: Int)
    /// Acceptor states collected (removed) by this node.
    case acceptorsCollected(Int)
    /// A dead key was removed physically.
    case reaped(partition: Int)
    case pendingValveOpened(partition: Int, waitingFor: Int)
    /// A storage operation failed; `context` says which.
    case storageFailed(context: String, StorageFailure)
}
