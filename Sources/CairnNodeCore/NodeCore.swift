import CairnCore

/// The decisions of one Cairn node's data path, without I/O: client reads and writes through
/// the quorum coordinators, minting dots (`MintEpochs`), what a replica does with objects
/// peers send it, hints (the `HintLedger`, the hint index and hint mint epochs, delivery),
/// read repair, and the per-key order of storage operations.
///
/// Events go in as `mutating func on…(…, now:) -> [NodeCommand]`; the commands that come out
/// are carried out by an executor under the duties stated on `NodeCommand`. Two executors run
/// this very code: `cairnd`'s `Node` (sockets, files) and the simulator (`CairnSim`), so
/// what 10,000 simulated seeds check is what the daemon does (FoundationDB's simulation,
/// TigerBeetle's VOPR).
///
/// Time: `now` is the executor's monotonic clock in milliseconds (timers, request
/// deadlines); `wallNow` is wall-clock milliseconds since 1970 (hint ages), which survives
/// restarts and may be skewed per node.
///
/// One instance owns the partitions of its `Shard`; nothing in it is shared, so a node may run
/// one instance per set of partitions, each on its own executor, the home instance running
/// membership for all (see `Shard`).
public struct NodeCore: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Replicas per key (N).
        public var replicas: Int
        /// Default read and write quorums when a request names none.
        public var readQuorum: Int
        public var writeQuorum: Int
        /// A client request's deadline.
        public var requestTimeoutMilliseconds: UInt64
        /// How long a coordinator waits for one replica's acknowledgement before counting it
        /// failed (and keeping a hint for it). Shorter than the request's deadline, so a late
        /// failure still leaves a hint while the client can be answered in time.
        public var replicaTimeoutMilliseconds: UInt64
        /// How long a read waits, after answering, for the slower replicas to read-repair them.
        public var readRepairWindowMilliseconds: UInt64
        /// Live siblings a client write may leave on a key (Riak's `max_siblings`).
        public var siblingLimit: Int
        /// The object budget: the encoded bytes a client write may leave a key's object at
        /// (`DVVSet.encodedByteBound`), unless it makes the object smaller. Every replica path
        /// carries four times as much (`WireLimits.maxReplicaObjectBytes`), so merges of
        /// concurrent writes near the budget still converge (docs/api.md, "Limits").
        public var maxObjectBytes: Int
        /// Client requests this core coordinates at once; more are refused as overloaded.
        public var maxRequestsInFlight: Int
        /// How long a hint delivery batch may take before it is retried.
        public var hintDeliveryTimeoutMilliseconds: UInt64
        public var hintLimits: HintLedger.Limits
        /// Forwarded writes remembered to filter duplicates (per core).
        public var rememberedForwards: Int
        /// Objects per page of an anti-entropy exchange (pulled from the peer, pushed to it).
        public var exchangePageSize: Int
        /// Exchanges asked for out of turn (after a dropped hint) kept at most.
        public var maxUrgentExchanges: Int
        /// Paxos rounds a CAS tries before it gives up, and the backoff between them.
        public var casMaxAttempts: Int
        public var casBackoffBaseMilliseconds: Int
        public var casBackoffCapMilliseconds: Int
        /// Test only: answer linearizable reads from this node's own acceptor, skipping Paxos,
        /// so the simulator can show its checker catches it. Never set in a node.
        public var brokenLocalCASRead = false
        /// How often the maintenance tick runs (hint aging and delivery, pending partitions,
        /// the next anti-entropy exchange).
        public var maintenanceIntervalMilliseconds: UInt64
        /// The least time between the starts of two exchanges of the anti-entropy sweep (the
        /// round-robin over this node's partitions and their replicas); the maintenance tick
        /// bounds it from below. Urgent exchanges (an operator's, a dropped hint's) do not wait.
        public var antiEntropyIntervalMilliseconds: UInt64 = 0
        /// How often the home instance probes every reachable member's clock (`ClusterClock`).
        public var clockProbeIntervalMilliseconds: UInt64 = 2_000
        /// A correction past this many milliseconds is reported (`NodeNotice.clockSkew`): the
        /// machine's clock is that far from the cluster's median; fix its time synchronisation.
        public var clockBoundMilliseconds: UInt64 = 500
        /// Handoff: the throttle, batch size in bytes and keys, the sender's pause after a
        /// failed send, a batch's timeout, runs of a transfer before it gives up (a failed batch
        /// ends a run) and the pause before retrying when no other transfer is owed.
        public var handoffConcurrency: Int
        public var handoffBytesPerSecond: Int
        public var handoffBatchBytes: Int
        public var handoffBatchKeys: Int
        public var handoffRetryMilliseconds: UInt64
        public var handoffBatchTimeoutMilliseconds: UInt64
        public var transferMaxAttempts: Int
        public var transferRetryDelayMilliseconds: UInt64
        /// A pending partition with no batch for this long is served anyway (the safety valve).
        public var pendingSafetyValveMilliseconds: UInt64
        /// Sources remembered as finished before this node saw the ring change, at most.
        public var finishedEarlyLimit: Int
        /// How often a pending partition asks its unfinished sources again to send it.
        public var handoffRequestIntervalMilliseconds: UInt64
        /// How often this node looks for copies of partitions it does not replicate (left by
        /// ring changes its view missed) and sends any whose contents changed to the primaries.
        public var orphanCheckIntervalMilliseconds: UInt64
        /// Test only: mint every dot under this epoch (the Riak KV679 mistake), so the
        /// simulator can show its checkers catch it. Never set in a node.
        public var brokenFixedMintEpoch: UInt64?
        /// Scans: the most keys one node returns for one request, and the most keys it examines
        /// for one (tombstones and expired keys included), shared by the partitions asked, so
        /// that a scan over a graveyard of tombstones never stalls the node.
        public var scanMaxLimit = 1_000
        public var scanExamineLimit = 10_000
        /// Reaping (`NodeCore+Reaping.swift`): how long a key must have been dead before it is
        /// proposed for removal (0: never reap), and keys examined per maintenance tick. The
        /// grace period runs from when the reaper itself first saw the key dead, on its
        /// monotonic clock; it must exceed any request's timeout, so that no older copy is
        /// still in flight when every member has confirmed.
        public var reapGraceMilliseconds: UInt64 = 3_600_000
        public var reapBatchKeys = 256
        /// The most dead keys whose first sighting the reaper remembers at once (its memory
        /// bound); a dead key beyond it is noted on a later pass, once others are reaped.
        public var reapTrackedKeysLimit = 1_000_000
        /// CAS acceptor states with nothing in progress whose ballots are all older than this
        /// are collected (0: never), `acceptorCollectBatch` examined per maintenance tick. It
        /// must exceed any CAS operation's duration and the skew between proposers' clocks
        /// (a proposer whose clock runs further behind is refused until it raises its counter).
        public var acceptorGraceMilliseconds: UInt64 = 3_600_000
        public var acceptorCollectBatch = 256
        /// Acceptor states a member examines per page when a node that gained a partition
        /// gathers them (`NodeCore+CASHandoff`), and such pages requested at once.
        public var casStatesPageSize = 256
        public var casStatesPullConcurrency = 8
        /// Test only: remove dead keys without asking the other primaries (so a primary that
        /// missed the delete brings the value back), so the simulator can show its checker
        /// catches it. Never set in a node.
        public var brokenReapWithoutConfirmation = false
        /// Test only: a former replica drops its copy of a partition as soon as it sees it,
        /// before any new owner has received it, so the simulator can show its checkers catch
        /// the writes lost with it. Never set in a node.
        public var brokenDropBeforeHandoff = false
        /// Test only: a node that gains a partition promises and accepts for it without first
        /// gathering the acceptor states of its former acceptors, so the simulator can show
        /// its linearizability checker catches a majority of new replicas that missed an
        /// accepted proposal. Never set in a node.
        public var brokenCASWithoutStateHandoff = false
        /// Test only: a scan lists only this node's own copies (what the seed's scan did), so
        /// the simulator can show its scan checker catches it. Never set in a node.
        public var brokenLocalScan = false
        /// Test only: a plain write skips its read and supersedes nothing (siblings pile up),
        /// so the simulator can show its checker catches it. Never set in a node.
        public var brokenPlainWritesBlind = false
        /// Deliberately broken (simulator only): the cluster clock measures but never corrects,
        /// so every node judges TTLs by its own skewed clock.
        public var brokenNoClockCorrection = false

        /// The settings of one of `count` instances of a node: requests in flight, hint bytes,
        /// the handoff throttle and concurrency, acceptor-state pulls and the reaper's memory
        /// bound are budgets of the node, so each instance gets its share (at least 1).
        public func divided(among count: Int) -> Settings {
            guard count > 1 else { return self }
            var share = self
            share.maxRequestsInFlight = max(1, maxRequestsInFlight / count)
            share.hintLimits = HintLedger.Limits(
                maxBytes: max(1, hintLimits.maxBytes / count), maxAgeMilliseconds: hintLimits.maxAgeMilliseconds,
                batchSize: hintLimits.batchSize)
            share.handoffBytesPerSecond = max(1, handoffBytesPerSecond / count)
            share.handoffConcurrency = max(1, handoffConcurrency / count)
            share.casStatesPullConcurrency = max(1, casStatesPullConcurrency / count)
            share.reapTrackedKeysLimit = max(1, reapTrackedKeysLimit / count)
            return share
        }

        public init(
            replicas: Int = 3, readQuorum: Int = 2, writeQuorum: Int = 2, requestTimeoutMilliseconds: UInt64 = 5_000,
            replicaTimeoutMilliseconds: UInt64? = nil, readRepairWindowMilliseconds: UInt64 = 500, siblingLimit: Int = 64,
            maxObjectBytes: Int = DVVSet<[UInt8]>.defaultObjectBudget,
            maxRequestsInFlight: Int = 8_192, hintDeliveryTimeoutMilliseconds: UInt64 = 10_000,
            hintLimits: HintLedger.Limits = HintLedger.Limits(), rememberedForwards: Int = 4_096,
            exchangePageSize: Int = 256, maxUrgentExchanges: Int = 1_024, casMaxAttempts: Int = 10,
            casBackoffBaseMilliseconds: Int = 20, casBackoffCapMilliseconds: Int = 400,
            maintenanceIntervalMilliseconds: UInt64 = 1_000, handoffConcurrency: Int = 2, handoffBytesPerSecond: Int = 16 << 20,
            handoffBatchBytes: Int = 256 << 10, handoffBatchKeys: Int = 1_024, handoffRetryMilliseconds: UInt64 = 500,
            handoffBatchTimeoutMilliseconds: UInt64 = 10_000, transferMaxAttempts: Int = 120,
            transferRetryDelayMilliseconds: UInt64 = 1_000, pendingSafetyValveMilliseconds: UInt64 = 300_000,
            finishedEarlyLimit: Int = 4_096, handoffRequestIntervalMilliseconds: UInt64 = 5_000,
            orphanCheckIntervalMilliseconds: UInt64 = 10_000
        ) {
            self.replicas = replicas
            self.readQuorum = readQuorum
            self.writeQuorum = writeQuorum
            self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            self.replicaTimeoutMilliseconds = replicaTimeoutMilliseconds ?? max(1, requestTimeoutMilliseconds / 2)
            self.readRepairWindowMilliseconds = readRepairWindowMilliseconds
            self.siblingLimit = siblingLimit
            self.maxObjectBytes = maxObjectBytes
            self.maxRequestsInFlight = maxRequestsInFlight
            self.hintDeliveryTimeoutMilliseconds = hintDeliveryTimeoutMilliseconds
            self.hintLimits = hintLimits
            self.rememberedForwards = rememberedForwards
            self.exchangePageSize = exchangePageSize
            self.maxUrgentExchanges = maxUrgentExchanges
            self.casMaxAttempts = casMaxAttempts
            self.casBackoffBaseMilliseconds = casBackoffBaseMilliseconds
            self.casBackoffCapMilliseconds = casBackoffCapMilliseconds
            self.maintenanceIntervalMilliseconds = maintenanceIntervalMilliseconds
            self.handoffConcurrency = handoffConcurrency
            self.handoffBytesPerSecond = handoffBytesPerSecond
            self.handoffBatchBytes = handoffBatchBytes
            self.handoffBatchKeys = handoffBatchKeys
            self.handoffRetryMilliseconds = handoffRetryMilliseconds
            self.handoffBatchTimeoutMilliseconds = handoffBatchTimeoutMilliseconds
            self.transferMaxAttempts = transferMaxAttempts
            self.transferRetryDelayMilliseconds = transferRetryDelayMilliseconds
            self.pendingSafetyValveMilliseconds = pendingSafetyValveMilliseconds
            self.finishedEarlyLimit = finishedEarlyLimit
            self.handoffRequestIntervalMilliseconds = handoffRequestIntervalMilliseconds
            self.orphanCheckIntervalMilliseconds = orphanCheckIntervalMilliseconds
        }
    }

    public let id: NodeID
    /// The partitions this instance owns.
    public let shard: Shard
    /// The settings of this instance: the node's, with its node-wide budgets (requests in
    /// flight, hint bytes, handoff throttle and concurrency, acceptor-state pulls) divided
    /// among the node's instances.
    /// Fixed at start but for what an operator retunes at run time (`NodeCore+Steering`).
    public internal(set) var settings: Settings
    let keyHash: @Sendable ([UInt8]) -> KeyHash

    var mint: MintEpochs
    /// The last mint lease known durable.
    var persistedMintLease: UInt64
    var ledger: HintLedger
    /// Hint ids held here per key, so a fallback answers reads with its hints too.
    var hintKeys: [[UInt8]: Set<UInt64>] = [:]
    /// The key of each hint held here (the reverse of `hintKeys`).
    var hintKeyOf: [UInt64: [UInt8]] = [:]
    /// The epoch hinted writes of a key are minted under while this node holds hints for it.
    var hintMintEpoch: [[UInt8]: UInt64] = [:]
    var writes: [UInt64: WriteState] = [:]
    var reads: [UInt64: ReadState] = [:]
    var scans: [UInt64: ScanState] = [:]
    /// Reaping: the partition and key the scan for dead keys has reached, the page being
    /// confirmed, and whether a page is being read.
    var reapPartition = 0
    var reapAfter: [UInt8]?
    var reapRound: ReapRound?
    var reapScanning = false
    /// Reaping: when this node first saw each dead key's object dead (monotonic ms), by
    /// partition (at most `Settings.reapTrackedKeysLimit` keys in all).
    var reapDeadSince: [Int: [[UInt8]: DeadSighting]] = [:]
    /// Acceptor-state collection: where the next page starts, and whether one is under way.
    var acceptorCollectAfter: [UInt8]?
    var acceptorCollecting = false
    /// Outstanding peer requests, by call id: what their answer feeds.
    var calls: [UInt64: Call] = [:]
    /// Outstanding storage operations, by operation id: what their completion feeds.
    var operations: [UInt64: Operation] = [:]
    /// Per-key order of storage work: one job per key at a time.
    var gate = KeyGate<KeyJob>()
    /// Peer requests that wait for several storage jobs (a hint batch).
    var groups: [UInt64: Group] = [:]
    var deliveringTo: Set<NodeID> = []
    var deliveries: [UInt64: Delivery] = [:]
    var recentForwards = RecentSet<ForwardKey>(capacity: 4_096)
    /// Anti-entropy: the round-robin plan for `plannedRing`, where it stands, the urgent
    /// exchanges, and the exchange running (one at a time).
    var exchangePlan: [ExchangeTarget] = []
    var exchangeCursor = 0
    var plannedRing: Ring?
    var urgentExchanges: [ExchangeTarget] = []
    var exchange: Exchange?
    /// The cluster's clock as this node estimates it (home instance; `NodeCore+Clock`).
    public internal(set) var clusterClock = ClusterClock()
    var clockProbes: [NodeID: (sequence: UInt64, sent: MonotonicTime, wall: WallClockTime)] = [:]
    var nextClockProbe = MonotonicTime.zero
    var clockSequence: UInt64 = 0
    var clockBeyondBound = false
    /// The operator paused the anti-entropy sweep (urgent exchanges still run).
    public internal(set) var antiEntropyPaused = false
    /// When the sweep may start its next exchange (`Settings.antiEntropyIntervalMilliseconds`).
    var nextSweepExchange = MonotonicTime.zero
    /// CAS: operations waiting for their key's proposer, the keys with one running, the
    /// proposers, the highest ballot counter used or seen, and the acceptors' per-key order.
    var casWaiting: [[UInt8]: [PendingCAS]] = [:]
    var casRunning: Set<[UInt8]> = []
    var proposers: [UInt64: ProposerState] = [:]
    var ballotCounter: UInt64 = 0
    var acceptorGate = KeyGate<AcceptorJob>()
    /// CAS after ring changes: partitions gained here whose acceptor states are still being
    /// gathered, with the members not yet heard in full, and each gathering's progress.
    var casAwaiting: [Int: Set<NodeID>] = [:]
    var casPulls: [Int: [NodeID: CASStatesPull]] = [:]
    /// Gathered partitions an old replica of which was removed: fellow replicas are waited for
    /// even while unreachable.
    var casStrict: Set<Int> = []
    /// Partitions this node lost, with the nodes that gained them and have not yet gathered
    /// its acceptor states, and since when the oldest such debt stands.
    var casStatesOwed: [Int: Set<NodeID>] = [:]
    var casStatesOwedSince: MonotonicTime?
    /// When a member last asked this node for acceptor states (monotonic ms).
    var lastCASStatesRequestAt: MonotonicTime?
    /// Membership (gossip, failure detection, the ring): run by the home instance only.
    public internal(set) var membership: Membership.Instance?
    /// The cluster as this instance acts on it: the home instance's membership, as published.
    public internal(set) var cluster: ClusterSnapshot
    /// What the node's other instances last said of themselves, by index.
    var peerShards: [Int: ShardStatus] = [:]
    var publishedStatus: ShardStatus?
    /// When this instance first saw its node leaving (the hints' safety valve counts from it).
    var leavingSince: MonotonicTime?
    var previousRing: Ring?
    var transfers: [Handoff.Transfer: TransferProgress] = [:]
    var transferQueue: [Handoff.Transfer] = []
    var runningTransfers: [Handoff.Transfer: RunningTransfer] = [:]
    var transferCursors: [Handoff.Transfer: [UInt8]] = [:]
    var transferAttempts: [Handoff.Transfer: Int] = [:]
    var transferRetryAt: MonotonicTime?
    /// The operator paused handoff: no transfer runs until resumed (not persisted: a restart
    /// resumes).
    public internal(set) var handoffPaused = false
    /// Partitions gained here whose data is still arriving, with the old replicas awaited.
    var pendingIn: [Int: Set<NodeID>] = [:]
    var pendingSince: [Int: MonotonicTime] = [:]
    /// Sources whose last batch arrived before this node saw the ring change that makes the
    /// partition pending here.
    var finishedEarly: [Int: Set<NodeID>] = [:]
    /// When this node last asked the sources of a pending partition to send it.
    var handoffRequestedAt: [Int: MonotonicTime] = [:]
    /// When to look for orphan copies next, and the tree root each was last sent with.
    var orphanCheckAt = MonotonicTime.zero
    var orphanRoots: [Int: UInt64] = [:]
    var nextNumber: UInt64 = 1
    let incarnation: UInt32

    /// A core after (re)start from what the executor's disk holds: `membership` (restored,
    /// bootstrapped or joining; every instance is given it, the home instance runs it, the
    /// others start from its view), `persistedLease` (the highest mint lease any instance of
    /// the node stored), `hints` and `handoff` (this instance's part: hints of its partitions,
    /// transfers owed and partitions pending of its partitions, `HandoffState.restricted(to:)`)
    /// and `hintIDFloor` (above every hint id in the node's store). `incarnation` differs between
    /// two starts, and between the instances, of one node (the executor draws it at random), so
    /// ids this core sends (forwards) never repeat. `afterUncleanStop`: the node did not stop
    /// cleanly last time, so no mint epoch recorded before is trusted (`MintEpochs`). Then call
    /// `start(now:wallNow:)` once.
    public init(
        id: NodeID, shard: Shard = .whole, settings: Settings, membership: Membership.Instance, persistedLease: UInt64,
        hints: [HintEntry], hintIDFloor: UInt64 = 0, handoff: HandoffState?, now: MonotonicTime, wallNow: WallClockTime,
        incarnation: UInt32, afterUncleanStop: Bool = false, keyHash: @escaping @Sendable ([UInt8]) -> KeyHash
    ) {
        self.id = id
        self.shard = shard
        self.membership = shard.isHome ? membership : nil
        self.cluster = ClusterSnapshot(membership)
        self.previousRing = membership.ring?.ring
        self.incarnation = incarnation
        let settings = settings.divided(among: shard.count)
        self.settings = settings
        self.keyHash = keyHash
        let stride = UInt64(shard.count)
        let offset = UInt64(shard.index)
        mint = MintEpochs(node: id, persistedLease: persistedLease, stride: stride, offset: offset, afterUncleanStop: afterUncleanStop)
        persistedMintLease = persistedLease
        ledger = HintLedger(limits: settings.hintLimits, idStride: stride, idOffset: offset)
        recentForwards = RecentSet(capacity: settings.rememberedForwards)
        for entry in hints {
            hintKeys[entry.key, default: []].insert(entry.hint.id)
            hintKeyOf[entry.hint.id] = entry.key
        }
        startupEffects = ledger.restore(hints.map(\.hint), now: wallNow, idFloor: hintIDFloor)
        if let handoff { restore(handoff, now: now) }
    }

    var startupEffects: [HintLedger.Effect] = []

    /// The first commands: persist the membership state, start the membership and maintenance
    /// timers, drop hints too old after the downtime, resume owed transfers.
    public mutating func start(now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let view = clusterView(now: now)
        let effects = startupEffects
        startupEffects = []
        var commands: [NodeCommand] = [.schedule(.maintenance, at: now + settings.maintenanceIntervalMilliseconds)]
        if let membership { commands = [.persistMembership(membership.state), .schedule(.membership, at: now)] + commands }
        commands += performHints(effects, view: view)
        commands += startNextTransfer(now: now, wallNow: wallNow)
        return commands
    }

    /// An id unique across this node's restarts: the incarnation above a per-life counter.
    mutating func newForwardID() -> UInt64 { UInt64(incarnation) << 32 | (newNumber() & 0xFFFF_FFFF) }

    mutating func newNumber() -> UInt64 {
        defer { nextNumber += 1 }
        return nextNumber
    }

    /// The executor stored a `.persistMintLease` durably.
    public mutating func onMintLeasePersisted(_ lease: UInt64) { persistedMintLease = max(persistedMintLease, lease) }

    /// The executor could not store a `.persistMintLease`, and completed the storage writes
    /// that followed it as failed: epochs of that lease were never stored, so allocation
    /// starts again from the last durable lease and asks for it to be persisted anew.
    public mutating func onMintLeaseFailed() {
        mint = mint.restarted(persistedLease: persistedMintLease)
    }

    // MARK: what the shell may ask

    /// Client requests being coordinated here (reads and writes that still owe an answer).
    public var requestsInFlight: Int {
        writes.values.count { $0.origin != nil } + reads.values.count { !$0.answered } + proposers.count + scans.count
            + casWaiting.values.reduce(0) { $0 + $1.count }
    }

    /// Hints held here.
    public var hintsHeld: Int { ledger.count }
    /// The hints this instance holds, per owner.
    public var hintSummary: [NodeID: HintLedger.OwnerSummary] { ledger.summary }

    /// Whether any storage work is running or queued (a clean shutdown waits for none).
    public var isIdle: Bool { operations.isEmpty && gate.isEmpty && acceptorGate.isEmpty }

    /// Whether nothing at all is tracked: no requests, calls, storage or groups. For tests of
    /// the bounds (every table empties once its requests are answered).
    public var isQuiescent: Bool {
        writes.isEmpty && reads.isEmpty && scans.isEmpty && reapRound == nil && calls.isEmpty && isIdle && groups.isEmpty && proposers.isEmpty && casWaiting.isEmpty
    }
}

/// What the core's decisions need to know of the cluster at an event: the ring, who is
/// reachable, and which partitions are still arriving here by handoff. Built from the core's
/// own membership at each event (`clusterView(now:)`).
struct ClusterView {
    var ring: Ring?
    var isReachable: (NodeID) -> Bool
    /// A partition gained in a ring change whose data is still arriving: reads refuse it.
    var isPending: (Int) -> Bool

    init(ring: Ring?, isReachable: @escaping (NodeID) -> Bool, isPending: @escaping (Int) -> Bool = { _ in false }) {
        self.ring = ring
        self.isReachable = isReachable
        self.isPending = isPending
    }
}

/// Who forwarded a write and its id there: coordinated at most once.
struct ForwardKey: Hashable, Sendable {
    var node: NodeID
    var id: UInt64
}
