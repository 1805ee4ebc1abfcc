/// Everything nodes say to each other after the handshake, as plain values of CairnCore types.
///
/// Each case has one message type code (`MessageType`) and one role: a request (answered by
/// exactly one response or error frame), a response, or a one-way message. The binary layout
/// of each payload is in `docs/protocol.md`; objects and contexts inside them use CairnCore's
/// strict encodings (`DVVSet.encode()`, `CausalContext.encode()`), unchanged.
public enum WireMessage: Equatable, Sendable {
    // MARK: generic replies
    /// The request was carried out durably (replicate, hint batch, handoff batch).
    case ack
    /// The request was refused or failed at the receiver; `reason` is for logs.
    case nack(reason: String)

    // MARK: membership (one-way)
    /// Gossip and heartbeats; the envelope names the sender and its cluster.
    case membership(Membership.Message)
    /// One-way: an operator asked another node to have the receiver leave the cluster
    /// (`cairn cluster leave NODE` through any node, or a committed plan); the receiver leaves
    /// as if asked itself, once it holds the ring at `ringVersion` or later (0: at once), so the
    /// ring it derives is the one a plan predicted.
    case leaveRequest(ringVersion: UInt64)
    /// One-way: an operator committed a plan (`cairn cluster commit`) that makes the receiver,
    /// a staged joiner, `valid`; it does so once it holds the ring at `ringVersion` or later.
    case commitRequest(ringVersion: UInt64)
    /// One-way: a clock probe (`ClusterClock`) with the sender's wall clock when it sent it.
    case clockProbe(sequence: UInt64, sentAt: WallClockTime)
    /// One-way answer to a probe: its sequence and time, and the receiver's wall clock when the
    /// probe arrived.
    case clockReply(sequence: UInt64, sentAt: WallClockTime, receivedAt: WallClockTime)

    // MARK: quorum data path
    /// Read the local replica of `key` in `partition`. Answered by `readReply`.
    case read(ReadRequest)
    case readReply(ReadReply)
    /// Merge `object` into the local replica and store it durably (as a hint for `hintFor`
    /// when set). Answered by `ack` or `nack`.
    case replicate(Replicate)
    /// A write for the receiver to coordinate (`Quorum.WriteCoordinator` `.forward`).
    /// Answered by `writeOutcome`.
    case forwardedWrite(ForwardedWrite)
    case writeOutcome(WriteOutcome)
    /// One-way: merge `object` into the stale replica (`ReadCoordinator` `.repair`).
    case readRepair(Replicate)
    /// One node's part of a cluster-wide scan: the live keys of some partitions. Answered by
    /// `scanReply`.
    case scanRequest(ScanRequest)
    case scanReply(ScanReply)
    /// Before a replica removes dead keys physically: does the receiver hold, for each key, a
    /// version that dominates the given history? Answered by `reapCheckReply`, one flag per
    /// key in order.
    case reapCheck(ReapCheck)
    case reapCheckReply([Bool])
    /// One-way, after every member confirmed a page of dead keys: remove your copy of each
    /// key of `partition` whose object is still exactly the one given (`NodeCore+Reaping`), so
    /// that all copies go in one round rather than one primary at a time.
    case reapNow(partition: Int, [KeyedObject])

    // MARK: hints and handoff
    /// Hinted writes handed back to their owner (`HintLedger` `.deliver`). Answered by
    /// `ack` once every item is stored durably, else `nack`.
    case hintBatch([HintItem])
    /// One batch of a partition transfer (`Handoff.Sender` `.send`). Answered by `ack`/`nack`.
    case handoffBatch(HandoffBatch)
    /// One-way, from a node a partition is pending on to one of the partition's old replicas:
    /// send me your copy of `partition` (the receiver queues a transfer unless one is on).
    case handoffRequest(partition: Int)

    // MARK: anti-entropy
    /// Ask for the hashes of Merkle nodes of `partition` (`MerkleExchange` `.request`).
    case merkleHashesRequest(partition: Int, MerkleExchange.Request)
    /// The hashes asked for, in the order of the request's indices.
    case merkleHashes([UInt64])
    /// Ask for the keys and objects of differing segments, in key order after a cursor.
    case segmentObjectsRequest(SegmentObjectsRequest)
    case segmentObjects(SegmentObjects)

    // MARK: compare-and-set
    /// A Paxos message for the acceptors (or, for replies, the proposer) of `key`.
    /// `prepare` and `propose` are requests, `commit` is one-way, the rest are responses.
    case cas(key: [UInt8], CAS.Message)
    /// From a node that gained `partition` in a ring change, to another member: your acceptor
    /// states of the partition's keys, in key order after `after`. Answered by `casStates`.
    case casStatesRequest(partition: Int, after: [UInt8]?)
    case casStates(CASStatesPage)

    // MARK: tracing
    /// A request carrying the trace context of the span that sent it, as the tracer's
    /// propagation headers (W3C `traceparent`/`tracestate` with OpenTelemetry); the receiver
    /// answers the request inside a span of that trace. It travels as the request's message
    /// type with bit 15 set, the headers first in the payload (`docs/protocol.md`). The node
    /// core never sees it: the shells wrap and unwrap it.
    indirect case traced(context: [String: String], WireMessage)
}

/// The outcome of a forwarded write, as the coordinating node reports it.
public typealias WriteOutcome = Quorum.WriteCoordinator<[UInt8]>.Outcome

extension WireMessage {
    /// How a message travels.
    public enum Role: Hashable, Sendable {
        case request
        case response
        case oneWay
    }

    /// The message type codes: the high byte names the family, the low byte the message.
    public enum MessageType: UInt16, Hashable, Sendable, CaseIterable {
        case ack = 0x0001
        case nack = 0x0002

        case membershipDigest = 0x0101
        case membershipDelta = 0x0102
        case membershipUpdate = 0x0103
        case membershipHeartbeat = 0x0104
        case membershipHeartbeatReply = 0x0105
        case leaveRequest = 0x0106
        case commitRequest = 0x0107
        case clockProbe = 0x0108
        case clockReply = 0x0109

        case read = 0x0201
        case readReply = 0x0202
        case replicate = 0x0203
        case forwardedWrite = 0x0204
        case writeOutcome = 0x0205
        case readRepair = 0x0206
        case scanRequest = 0x0207
        case scanReply = 0x0208
        case reapCheck = 0x0209
        case reapCheckReply = 0x020A
        case reapNow = 0x020B

        case hintBatch = 0x0301
        case handoffBatch = 0x0401
        case handoffRequest = 0x0402

        case merkleHashesRequest = 0x0501
        case merkleHashes = 0x0502
        case segmentObjectsRequest = 0x0503
        case segmentObjects = 0x0504

        case casPrepare = 0x0601
        case casPromise = 0x0602
        case casPrepareRejected = 0x0603
        case casPropose = 0x0604
        case casAccepted = 0x0605
        case casProposeRejected = 0x0606
        case casCommit = 0x0607
        case casCommitted = 0x0608
        case casStatesRequest = 0x0609
        case casStates = 0x060A

        public var role: Role {
            switch self {
            case .read, .replicate, .forwardedWrite, .hintBatch, .handoffBatch, .merkleHashesRequest,
                 .segmentObjectsRequest, .casPrepare, .casPropose, .casCommit, .scanRequest, .reapCheck, .casStatesRequest:
                .request
            case .ack, .nack, .readReply, .writeOutcome, .merkleHashes, .segmentObjects, .casPromise, .scanReply, .reapCheckReply,
                 .casPrepareRejected, .casAccepted, .casProposeRejected, .casCommitted, .casStates:
                .response
            case .membershipDigest, .membershipDelta, .membershipUpdate, .membershipHeartbeat,
                 .membershipHeartbeatReply, .leaveRequest, .commitRequest, .clockProbe, .clockReply, .readRepair, .handoffRequest, .reapNow:
                .oneWay
            }
        }
    }

    public var messageType: MessageType {
        switch self {
        case .traced(_, let message): message.messageType
        case .ack: .ack
        case .nack: .nack
        case .membership(let message):
            switch message {
            case .digest: .membershipDigest
            case .delta: .membershipDelta
            case .update: .membershipUpdate
            case .heartbeat: .membershipHeartbeat
            case .heartbeatReply: .membershipHeartbeatReply
            }
        case .read: .read
        case .readReply: .readReply
        case .replicate: .replicate
        case .forwardedWrite: .forwardedWrite
        case .writeOutcome: .writeOutcome
        case .readRepair: .readRepair
        case .scanRequest: .scanRequest
        case .scanReply: .scanReply
        case .reapCheck: .reapCheck
        case .reapCheckReply: .reapCheckReply
        case .reapNow: .reapNow
        case .hintBatch: .hintBatch
        case .handoffBatch: .handoffBatch
        case .leaveRequest: .leaveRequest
        case .commitRequest: .commitRequest
        case .clockProbe: .clockProbe
        case .clockReply: .clockReply
        case .handoffRequest: .handoffRequest
        case .merkleHashesRequest: .merkleHashesRequest
        case .merkleHashes: .merkleHashes
        case .segmentObjectsRequest: .segmentObjectsRequest
        case .segmentObjects: .segmentObjects
        case .cas(_, let message):
            switch message {
            case .prepare: .casPrepare
            case .promise: .casPromise
            case .prepareRejected: .casPrepareRejected
            case .propose: .casPropose
            case .accepted: .casAccepted
            case .proposeRejected: .casProposeRejected
            case .commit: .casCommit
            case .committed: .casCommitted
            }
        case .casStatesRequest: .casStatesRequest
        case .casStates: .casStates
        }
    }

    public var role: Role { messageType.role }

    /// The message without its trace context, and the context (nil when not traced).
    public var untraced: (message: WireMessage, context: [String: String]?) {
        if case .traced(let context, let message) = self { return (message, context) }
        return (self, nil)
    }

    /// Bit 15 of a message type marks a traced request.
    public static let tracedTypeBit: UInt16 = 0x8000
    /// Bounds of a trace context: headers, a name's and a value's bytes (printable ASCII).
    public static let maxTraceHeaders = 8
    public static let maxTraceNameBytes = 64
    public static let maxTraceValueBytes = 512

    /// Whether `context` fits a traced request: at most `maxTraceHeaders` headers, names of 1
    /// to 64 printable ASCII characters without spaces, values of at most 512 printable ASCII.
    public static func isValidTraceContext(_ context: [String: String]) -> Bool {
        context.count <= maxTraceHeaders && context.allSatisfy { name, value in
            (1...maxTraceNameBytes).contains(name.utf8.count) && name.utf8.allSatisfy { (0x21...0x7E).contains($0) }
                && value.utf8.count <= maxTraceValueBytes && value.utf8.allSatisfy { (0x20...0x7E).contains($0) }
        }
    }
}

// MARK: - Payload types

/// A replica read: the key and the partition it falls in (the receiver keeps one store per
/// partition, and may hold the key under a partition it replicates for another ring version).
public struct ReadRequest: Hashable, Sendable {
    public var key: [UInt8]
    public var partition: Int

    public init(key: [UInt8], partition: Int) {
        self.key = key
        self.partition = partition
    }
}

/// A replica's answer to a read.
public enum ReadReply: Hashable, Sendable {
    case found(DVVSet<[UInt8]>)
    case notFound
    /// The replica could not read (disk, corrupt record); the coordinator counts it failed.
    case failed(reason: String)
}

/// An object for a replica to merge and store: replication, read repair.
public struct Replicate: Hashable, Sendable {
    public var key: [UInt8]
    public var partition: Int
    public var object: DVVSet<[UInt8]>
    /// When set, the receiver is a fallback and keeps the write as a hint for this primary.
    public var hintFor: NodeID?

    public init(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>, hintFor: NodeID? = nil) {
        self.key = key
        self.partition = partition
        self.object = object
        self.hintFor = hintFor
    }
}

/// A client write forwarded to a node that coordinates it (it is a target, this node is not).
/// The receiver computes the key hash, partition and lists from its own ring.
public struct ForwardedWrite: Hashable, Sendable {
    public var key: [UInt8]
    public var context: CausalContext
    /// The value, or `.tombstone` for a delete.
    public var sibling: Sibling<[UInt8]>
    public var w: Int
    public var n: Int
    public var timeoutMilliseconds: UInt64
    /// The forwarding node; a forwarded write is never forwarded again.
    public var forwardedBy: NodeID
    /// Unique per forwarding node: a receiver coordinates one (node, id) at most once, so a
    /// duplicated or retried forward never mints a second dot for one client write.
    public var forwardID: UInt64

    public init(
        key: [UInt8], context: CausalContext, sibling: Sibling<[UInt8]>, w: Int, n: Int,
        timeoutMilliseconds: UInt64, forwardedBy: NodeID, forwardID: UInt64
    ) {
        self.key = key
        self.context = context
        self.sibling = sibling
        self.w = w
        self.n = n
        self.timeoutMilliseconds = timeoutMilliseconds
        self.forwardedBy = forwardedBy
        self.forwardID = forwardID
    }
}

/// One hinted write handed back to its owner.
public struct HintItem: Hashable, Sendable {
    public var partition: Int
    public var key: [UInt8]
    public var object: DVVSet<[UInt8]>

    public init(partition: Int, key: [UInt8], object: DVVSet<[UInt8]>) {
        self.partition = partition
        self.key = key
        self.object = object
    }
}

/// A key and its stored object.
public struct KeyedObject: Hashable, Sendable {
    public var key: [UInt8]
    public var object: DVVSet<[UInt8]>

    public init(key: [UInt8], object: DVVSet<[UInt8]>) {
        self.key = key
        self.object = object
    }
}

/// One batch of a partition transfer, in key order.
public struct HandoffBatch: Hashable, Sendable {
    public var partition: Int
    public var items: [KeyedObject]
    /// The last key of the batch: where the sender resumes after an acknowledgement.
    public var cursor: [UInt8]?
    /// Whether this batch ends the partition.
    public var isLast: Bool

    public init(partition: Int, items: [KeyedObject], cursor: [UInt8]?, isLast: Bool) {
        self.partition = partition
        self.items = items
        self.cursor = cursor
        self.isLast = isLast
    }
}

/// One page of a member's acceptor states of a partition (`casStatesRequest`).
public struct CASStatesPage: Hashable, Sendable {
    public var states: [CAS.KeyedAcceptorState]
    /// Where the next page starts (the last key examined); nil: no more.
    public var next: [UInt8]?
    /// Whether the sender replicated the partition in its own ring while it answered (or was
    /// still receiving it). A sender that does not may have been an acceptor of the partition
    /// before, and refuses to be one from now on, so its states are final.
    public var replicates: Bool

    public init(states: [CAS.KeyedAcceptorState], next: [UInt8]?, replicates: Bool) {
        self.states = states
        self.next = next
        self.replicates = replicates
    }
}

/// Ask for the objects of `segments` of `partition`'s Merkle tree, keys after `after`.
public struct SegmentObjectsRequest: Hashable, Sendable {
    public var partition: Int
    public var segments: [Int]
    /// Resume after this key (the `next` of the previous answer); nil from the start.
    public var after: [UInt8]?

    public init(partition: Int, segments: [Int], after: [UInt8]? = nil) {
        self.partition = partition
        self.segments = segments
        self.after = after
    }
}

/// The objects of the segments asked for, as many as fit one frame.
public struct SegmentObjects: Hashable, Sendable {
    public var items: [KeyedObject]
    /// Ask again with `after: next` for more; nil when this answer is complete.
    public var next: [UInt8]?

    public init(items: [KeyedObject], next: [UInt8]?) {
        self.items = items
        self.next = next
    }
}

/// One node's part of a cluster-wide scan (`NodeCore.onClientScan`): the live keys that start
/// with `prefix` and sort after `after`, in `partitions` (those this node answers for in the
/// scan's covering set), at most `limit` of them, in byte order.
public struct ScanRequest: Hashable, Sendable {
    public var partitions: [Int]
    public var prefix: [UInt8]
    public var after: [UInt8]?
    public var limit: Int
    /// Whether to return each key's object (for `values=true`), or only the key.
    public var values: Bool

    public init(partitions: [Int], prefix: [UInt8], after: [UInt8]?, limit: Int, values: Bool) {
        self.partitions = partitions
        self.prefix = prefix
        self.after = after
        self.limit = limit
        self.values = values
    }
}

/// A node's answer to a `ScanRequest`.
public struct ScanReply: Hashable, Sendable {
    /// The live keys found, in byte order, with their objects when values were asked for.
    public var items: [ScanItem]
    /// Every matching key up to and including `through` is in `items`; nil when every matching
    /// key of the partitions is. Set when the node stopped at `limit` keys (the last one) or at
    /// its examination budget (the last key it looked at), so that a scan never stalls a node.
    public var through: [UInt8]?
    /// Partitions asked for that this node does not serve (not a replica, or still pending a
    /// handoff): the coordinator asks another replica.
    public var unavailable: [Int]

    public init(items: [ScanItem], through: [UInt8]?, unavailable: [Int] = []) {
        self.items = items
        self.through = through
        self.unavailable = unavailable
    }
}

/// One key a scan found, and its object when values were asked for.
public struct ScanItem: Hashable, Sendable {
    public var key: [UInt8]
    public var object: DVVSet<[UInt8]>?

    public init(key: [UInt8], object: DVVSet<[UInt8]>? = nil) {
        self.key = key
        self.object = object
    }
}

/// Dead keys of `partition` a replica is about to remove, each with the history of its dead
/// object: the receiver says whether it holds a version that dominates each.
public struct ReapCheck: Hashable, Sendable {
    public var partition: Int
    public var items: [ReapItem]

    public init(partition: Int, items: [ReapItem]) {
        self.partition = partition
        self.items = items
    }
}

/// A key and the causal history (the join) of its dead object.
public struct ReapItem: Hashable, Sendable {
    public var key: [UInt8]
    public var history: CausalContext

    public init(key: [UInt8], history: CausalContext) {
        self.key = key
        self.history = history
    }
}
