import CairnCore
import CairnHTTP
import CairnStorage
import CairnTransport
import CairnWire
import Logging
import NIOCore
import NIOPosix

/// One Cairn node: the I/O shell around the CairnCore state machines (DESIGN.md §1).
///
/// Everything the node decides, a CairnCore machine decides: `Membership.Instance` (gossip,
/// failure detection, the ring), `Quorum.WriteCoordinator`/`ReadCoordinator` (one per client
/// request), `HintLedger`, `MerkleExchange`, `MintEpochs`. The actor feeds them messages,
/// timer expiries and client requests, and carries out their effects with the storage engines
/// (`ReplicaStore`, `HintStore`) and the internode transport (`WirePool`, `WireServer`) —
/// the same shell the simulator plays in `CairnSim/Simulation+*.swift`, over real sockets and
/// files.
///
/// Two clocks: `monotonicNow()` (milliseconds since start) drives timers, coordinators and the
/// failure detector; `wallNow()` (milliseconds since 1970) is what TTL expiries and hint ages
/// are measured in, because those survive restarts and travel between nodes.
public actor Node {
    public let configuration: NodeConfiguration
    public nonisolated let id: NodeID
    let logger: Logger
    let files: NodeFiles
    let store: ReplicaStore
    let hintStore: HintStore
    let pool: WirePool
    let group: any EventLoopGroup
    let started = ContinuousClock.now
    var membership: Membership.Instance
    var ledger: HintLedger
    var mint: MintEpochs
    /// Hint ids held here per key, so a fallback answers reads with its hints too.
    var hintKeys: [[UInt8]: Set<UInt64>] = [:]
    /// The epoch this node mints hinted writes of a key under while it holds hints for it.
    var hintMintEpoch: [[UInt8]: UInt64] = [:]
    var writes: [UInt64: WriteState] = [:]
    var reads: [UInt64: ReadState] = [:]
    var nextRequest: UInt64 = 1
    var timers = EventQueue<NodeTimer>()
    var keyLocks = KeyLocks()
    /// The highest CAS ballot counter this node used or saw.
    var ballotCounter: UInt64 = 0
    let paxos: PaxosStore
    var wireServer: WireServer?
    var ticker: Task<Void, Never>?
    var exchangePlan: [(partition: Int, peer: NodeID)] = []
    var urgentExchanges: [(partition: Int, peer: NodeID)] = []
    var exchangeRunning = false
    var hintDeliveries: Set<NodeID> = []
    var isStopping = false
    /// Outgoing handoff transfers and their progress, shown by `cairn cluster status`.
    var transfers: [Handoff.Transfer: TransferProgress] = [:]
    var transferQueue: [Handoff.Transfer] = []
    var transferRunner: Task<Void, Never>?
    /// The transfer being sent now, and each owed transfer's acknowledged cursor.
    var currentTransfer: Handoff.Transfer?
    var transferCursors: [Handoff.Transfer: [UInt8]] = [:]
    /// Partitions this node gained that are still arriving, with the old replicas it waits for.
    var pendingIn: [Int: Set<NodeID>] = [:]
    var pendingSince: [Int: UInt64] = [:]
    /// Sources whose last batch arrived before this node saw the ring change that makes the
    /// partition pending here.
    var finishedEarly: [Int: Set<NodeID>] = [:]
    var transferAttempts: [Handoff.Transfer: Int] = [:]
    /// The ring before the latest change, to plan handoff from.
    var previousRing: Ring?
    let metrics = NodeMetrics()

    /// Opens the data directory (creating the identity on first start) and restores the
    /// membership state, hints and mint lease. `start()` then listens and joins.
    public init(configuration: NodeConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        self.group = group
        self.logger = logger
        files = NodeFiles(directory: configuration.dataDirectory)
        try DurableFiles.makeDirectory(configuration.dataDirectory)
        let (id, created) = try files.loadOrCreateIdentity()
        self.id = id
        var storageOptions = StorageOptions(durability: configuration.durability)
        storageOptions.maxKeyBytes = configuration.maxKeyBytes
        // A stored object carries its history and siblings around the value.
        storageOptions.maxValueBytes = configuration.maxValueBytes * 2 + (64 << 10)
        store = try ReplicaStore(
            directory: files.partitions, partitionCount: Ring.maximumPartitionCount, options: storageOptions, logger: logger)
        var hintOptions = StorageOptions(durability: configuration.durability)
        hintOptions.maxKeyBytes = 8
        hintOptions.maxValueBytes = storageOptions.maxValueBytes + configuration.maxKeyBytes + 64
        hintStore = try HintStore(directory: files.hints, options: hintOptions, logger: logger)
        var paxosOptions = StorageOptions(durability: configuration.durability)
        paxosOptions.maxKeyBytes = configuration.maxKeyBytes
        paxosOptions.maxValueBytes = 2 * configuration.maxValueBytes + 256
        paxos = try PaxosStore(directory: files.paxos, options: paxosOptions, limits: WireLimits(), logger: logger)
        mint = MintEpochs(node: id, persistedLease: try files.loadMintLease())

        let settings = Membership.Settings(
            gossipIntervalMilliseconds: configuration.gossipIntervalMilliseconds,
            heartbeatIntervalMilliseconds: configuration.heartbeatIntervalMilliseconds)
        let address = configuration.listenAddress
        let wireLimits = WireLimits()
        if let state = try files.loadMembership(limits: wireLimits) {
            guard state.clusterName == configuration.clusterName else {
                throw NodeError.wrongCluster(expected: configuration.clusterName, found: state.clusterName)
            }
            membership = Membership.Instance(restoring: state, me: id, address: address, seeds: configuration.seeds, settings: settings)
        } else if configuration.seeds.filter({ $0 != address }).isEmpty {
            membership = .bootstrap(
                id, address: address, clusterName: configuration.clusterName, partitionCount: configuration.partitions,
                targetReplicas: configuration.replicas, settings: settings)
        } else {
            membership = Membership.Instance(
                joining: id, address: address, clusterName: configuration.clusterName, seeds: configuration.seeds,
                settings: settings)
        }
        ledger = HintLedger()
        let identity = WireIdentity(
            clusterName: configuration.clusterName, node: id, secret: configuration.secret.map(ClusterSecret.init))
        pool = try WirePool(identity: identity, listenAddress: address, group: group, logger: logger)
        var restoredHints: [HintLedger.Hint] = []
        for entry in try hintStore.all(logger: logger) {
            restoredHints.append(entry.hint)
            hintKeys[entry.key, default: []].insert(entry.hint.id)
        }
        let dropped = ledger.restore(restoredHints, now: Self.wallClock())
        let partitionsOnDisk = store.partitions.count
        logger.info("node opened", metadata: [
            "cairn.node": "\(id)", "cairn.new_identity": "\(created)", "cairn.data": "\(configuration.dataDirectory)",
            "cairn.hints": "\(restoredHints.count)", "cairn.partitions_on_disk": "\(partitionsOnDisk)",
        ])
        pendingStartupHintEffects = dropped
    }

    var pendingStartupHintEffects: [HintLedger.Effect] = []

    // MARK: clocks

    func monotonicNow() -> UInt64 {
        let elapsed = ContinuousClock.now - started
        return UInt64(elapsed.components.seconds) * 1_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    nonisolated static func wallClock() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1_000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    func wallNow() -> UInt64 { Self.wallClock() }

    // MARK: lifecycle

    /// Listens for peers, persists the membership state, starts the timers and gossip.
    public func start() async throws {
        let handler = NodeWireHandler(node: self)
        let identity = WireIdentity(
            clusterName: configuration.clusterName, node: id, secret: configuration.secret.map(ClusterSecret.init))
        wireServer = try await WireServer.start(
            host: configuration.listenHost, port: configuration.listenPort, identity: identity, group: group,
            handler: handler, logger: logger)
        try files.saveMembership(membership.state, me: id, address: configuration.listenAddress)
        if let ring = membership.ring { planExchanges(ring.ring) }
        previousRing = membership.ring?.ring
        performHints(pendingStartupHintEffects)
        pendingStartupHintEffects = []
        try restoreHandoffState()
        if !transferQueue.isEmpty { transferRunner = Task { await self.runTransfers() } }
        timers.schedule(.membership, at: monotonicNow())
        timers.schedule(.maintenance, at: monotonicNow() + configuration.exchangeIntervalMilliseconds)
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
                guard let self else { return }
                await self.fireTimers()
            }
        }
        logger.info("node listening", metadata: [
            "cairn.listen": "\(configuration.listenAddress)", "cairn.cluster": "\(configuration.clusterName)",
            "cairn.seeds": "\(configuration.seeds.joined(separator: ","))",
        ])
    }

    /// Stops taking requests, fails those in flight, closes the transport and flushes and
    /// closes every engine, so nothing is left half-written.
    public func stop() async {
        guard !isStopping else { return }
        isStopping = true
        ticker?.cancel()
        ticker = nil
        transferRunner?.cancel()
        for (request, state) in writes where state.origin != nil {
            state.finish(.failure(KeyValueServiceError(.unavailable, "the node is shutting down", retryAfterSeconds: 1)))
            writes[request] = nil
        }
        for (request, state) in reads {
            state.finish(.failure(KeyValueServiceError(.unavailable, "the node is shutting down", retryAfterSeconds: 1)))
            reads[request] = nil
        }
        await wireServer?.shutdown()
        await pool.shutdown()
        await drainKeyLocks()
        store.close()
        do { try hintStore.close() } catch {
            logger.error("closing the hint store failed", metadata: ["error": "\(error)"])
        }
        do { try paxos.close() } catch {
            logger.error("closing the Paxos store failed", metadata: ["error": "\(error)"])
        }
        logger.info("node stopped", metadata: ["cairn.node": "\(id)"])
    }

    // MARK: timers

    func fireTimers() {
        let now = monotonicNow()
        while let (_, timer) = timers.next(dueBy: now) {
            switch timer {
            case .membership:
                performMembership(membership.onTick(nowMilliseconds: now, random: UInt64.random(in: 0...UInt64.max)))
            case .maintenance:
                maintenance()
                timers.schedule(.maintenance, at: now + configuration.exchangeIntervalMilliseconds)
            case .write(let request, let timer):
                guard var state = writes[request] else { continue }
                let effects = state.machine.onTimer(timer, now: now)
                writes[request] = state
                performWrite(effects, request: request)
            case .read(let request, let timer):
                guard var state = reads[request] else { continue }
                let effects = state.machine.onTimer(timer, now: now)
                reads[request] = state
                performRead(effects, request: request)
            }
        }
    }

    // MARK: helpers

    var ring: Ring? { membership.ring?.ring }

    func address(of node: NodeID) -> String? { membership.state.members[node]?.address }

    func isReachable(_ node: NodeID) -> Bool {
        node == id || membership.isReachable(node, nowMilliseconds: monotonicNow())
    }

    func reachability() -> (NodeID) -> Bool {
        let membership = self.membership
        let now = monotonicNow()
        let me = id
        return { $0 == me || membership.isReachable($0, nowMilliseconds: now) }
    }

    func newRequestID() -> UInt64 {
        defer { nextRequest += 1 }
        return nextRequest
    }

    var requestTimeout: Duration { .milliseconds(Int64(configuration.requestTimeoutMilliseconds)) }
}

/// What the node's timer loop fires.
enum NodeTimer: Sendable {
    case membership
    case maintenance
    case write(UInt64, Quorum.Timer)
    case read(UInt64, Quorum.Timer)
}
