import CairnCore
import CairnHTTP
import CairnNodeCore
import CairnStorage
import CairnTransport
import CairnWire
import Logging
import NIOCore
import NIOPosix

/// One Cairn node: the executor of the node core over real sockets and files
/// (docs/design.md §1).
///
/// Everything the node decides, `NodeCore` decides (`Sources/CairnNodeCore`). The actor feeds
/// it client requests, peer messages, storage completions and timer expiries, and carries out
/// the commands it returns with the storage engines (`ReplicaStore`, `HintStore`,
/// `PaxosStore`) and the internode transport (`WirePool`, `WireServer`); `Node+Core.swift` is
/// the executor. The simulator runs the same core over a simulated network and disk.
///
/// The actor runs on one NIO event loop (`eventLoop`, its executor): the internode transport
/// and, in `cairnd`, the client listeners use the same loop, so a request, the messages it
/// sends and their answers are steps in one loop's queue rather than wake-ups of other threads.
/// Transport callbacks enter the actor with `onLoop`.
///
/// Two clocks: `clockNow()` (milliseconds since start) drives timers, coordinators and the
/// failure detector; `wallTime()` (milliseconds since 1970) is what TTL expiries and hint ages
/// are measured in, because those survive restarts and travel between nodes.
public actor Node {
    public let configuration: NodeConfiguration
    public nonisolated let id: NodeID
    let logger: Logger
    let files: NodeFiles
    let store: ReplicaStore
    let hintStore: HintStore
    let pool: WirePool
    /// The loop the actor runs on (its executor), and the transport's.
    public nonisolated let eventLoop: any EventLoop
    nonisolated let executor: any SerialExecutor
    let started = ContinuousClock.now
    /// Every decision the node makes (the data path, hints, anti-entropy, CAS, membership,
    /// handoff); this actor only executes its commands (`Node+Core.swift`).
    var core: NodeCore
    var clientReads: [UInt64: WaitingRead] = [:]
    var clientWrites: [UInt64: WaitingWrite] = [:]
    var clientCAS: [UInt64: CheckedContinuation<CAS.Proposer.Outcome, any Error>] = [:]
    var clientScans: [UInt64: CheckedContinuation<ScanPageResult, any Error>] = [:]
    var peerReplies: [UInt64: @Sendable (WireMessage) -> Void] = [:]
    var nextTicket: UInt64 = 1
    /// The core's timers, and the one task scheduled on the loop for the earliest of them.
    var timers = EventQueue<NodeTimer>()
    var wakeAt: UInt64?
    var wakeTask: Scheduled<Void>?
    let paxos: PaxosStore
    var wireServer: WireServer?
    var isStopping = false
    let metrics = NodeMetrics()
    /// The ring's member count when replication was last logged (`noteReplication`).
    var loggedRingMembers: Int?

    /// Opens the data directory (creating the identity on first start) and restores the
    /// membership state, hints and mint lease. `start()` then listens and joins.
    public init(configuration: NodeConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        eventLoop = group.next()
        executor = eventLoop.executor
        self.logger = logger
        files = NodeFiles(directory: configuration.dataDirectory)
        try DurableFiles.makeDirectory(configuration.dataDirectory)
        let (id, created) = try files.loadOrCreateIdentity()
        self.id = id
        var storageOptions = StorageOptions(durability: configuration.durability)
        storageOptions.maxKeyBytes = configuration.maxKeyBytes
        storageOptions.maxFileSizeBytes = configuration.dataFileBytes
        storageOptions.mergeMinDeadBytes = min(storageOptions.mergeMinDeadBytes, configuration.dataFileBytes / 2)
        // A stored object carries its history and siblings around the value.
        storageOptions.maxValueBytes = configuration.maxValueBytes * 2 + (64 << 10)
        store = try ReplicaStore(
            directory: files.partitions, partitionCount: Ring.maximumPartitionCount, options: storageOptions, logger: logger)
        if configuration.unsafeLastWriterWins {
            store.replacesOnMerge = true
            logger.warning("UNSAFE MODE last-writer-wins: replicas replace their copies instead of merging; concurrent writes WILL be lost. For testing the chaos checkers only.")
        }
        var hintOptions = StorageOptions(durability: configuration.durability)
        hintOptions.maxKeyBytes = 8
        hintOptions.maxValueBytes = storageOptions.maxValueBytes + configuration.maxKeyBytes + 64
        hintStore = try HintStore(directory: files.hints, options: hintOptions, logger: logger)
        var paxosOptions = StorageOptions(durability: configuration.durability)
        paxosOptions.maxKeyBytes = configuration.maxKeyBytes
        paxosOptions.maxValueBytes = 2 * configuration.maxValueBytes + 256
        paxos = try PaxosStore(directory: files.paxos, options: paxosOptions, limits: WireLimits(), logger: logger)
        let persistedLease = try files.loadMintLease()
        // A new data directory has nothing to distrust; otherwise only a clean stop is trusted.
        let afterUncleanStop = try !files.takeCleanStopMark() && !created

        let membershipSettings = Membership.Settings(
            gossipIntervalMilliseconds: configuration.gossipIntervalMilliseconds,
            heartbeatIntervalMilliseconds: configuration.heartbeatIntervalMilliseconds)
        let address = configuration.listenAddress
        let wireLimits = WireLimits()
        let membership: Membership.Instance
        if let state = try files.loadMembership(limits: wireLimits) {
            guard state.clusterName == configuration.clusterName else {
                throw NodeError.wrongCluster(expected: configuration.clusterName, found: state.clusterName)
            }
            membership = Membership.Instance(
                restoring: state, me: id, address: address, seeds: configuration.seeds, settings: membershipSettings)
        } else if configuration.seeds.filter({ $0 != address }).isEmpty {
            membership = .bootstrap(
                id, address: address, clusterName: configuration.clusterName, partitionCount: configuration.partitions,
                targetReplicas: configuration.replicas, settings: membershipSettings)
        } else {
            membership = Membership.Instance(
                joining: id, address: address, clusterName: configuration.clusterName, seeds: configuration.seeds,
                settings: membershipSettings)
        }
        let identity = WireIdentity(
            clusterName: configuration.clusterName, node: id, secret: configuration.secret.map(ClusterSecret.init))
        pool = try WirePool(identity: identity, listenAddress: address, group: eventLoop, logger: logger)
        let restoredHints = try hintStore.all(logger: logger).map { HintEntry(hint: $0.hint, key: $0.key, object: $0.object) }
        let handoff = try Self.loadHandoffState(
            path: configuration.dataDirectory + "/handoff.state", partitions: Ring.maximumPartitionCount, me: id)
        var coreSettings = NodeCore.Settings(
            replicas: configuration.replicas, readQuorum: configuration.readQuorum, writeQuorum: configuration.writeQuorum,
            requestTimeoutMilliseconds: configuration.requestTimeoutMilliseconds, siblingLimit: configuration.siblingLimit,
            maintenanceIntervalMilliseconds: configuration.exchangeIntervalMilliseconds)
        coreSettings.reapGraceMilliseconds = UInt64(configuration.tombstoneGraceSeconds) * 1_000
        coreSettings.acceptorGraceMilliseconds = UInt64(configuration.casStateGraceSeconds) * 1_000
        core = NodeCore(
            id: id,
            settings: coreSettings,
            membership: membership, persistedLease: persistedLease, hints: restoredHints, handoff: handoff, now: .zero,
            wallNow: Self.wallClock(), incarnation: .random(in: 0...UInt32.max), afterUncleanStop: afterUncleanStop,
            keyHash: { ReplicaStore.keyHash($0) })
        let partitionsOnDisk = store.partitions.count
        logger.info("node opened", metadata: [
            "cairn.node": "\(id)", "cairn.new_identity": "\(created)", "cairn.data": "\(configuration.dataDirectory)",
            "cairn.hints": "\(restoredHints.count)", "cairn.partitions_on_disk": "\(partitionsOnDisk)",
            "cairn.clean_stop": "\(!afterUncleanStop)",
        ])
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Runs `body` on the actor from a callback of the transport or a timer: at once when
    /// already on the actor's loop, else in the loop's next turn.
    nonisolated func onLoop(_ body: @escaping @Sendable (isolated Node) -> Void) {
        if eventLoop.inEventLoop {
            assumeIsolated { body($0) }
        } else {
            eventLoop.execute { self.assumeIsolated { body($0) } }
        }
    }

    // MARK: clocks

    /// The two clocks as the node core takes them (distinct types, so neither passes for the
    /// other): the monotonic clock, in milliseconds since this node started, and the wall clock.
    func clockNow() -> MonotonicTime {
        let elapsed = ContinuousClock.now - started
        return MonotonicTime(milliseconds: UInt64(elapsed.components.seconds) * 1_000
            + UInt64(elapsed.components.attoseconds / 1_000_000_000_000_000))
    }

    nonisolated static func wallClock() -> WallClockTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallClockTime(millisecondsSince1970: UInt64(spec.tv_sec) * 1_000 + UInt64(spec.tv_nsec) / 1_000_000)
    }

    func wallTime() -> WallClockTime { Self.wallClock() }

    // MARK: lifecycle

    /// Listens for peers, persists the membership state, starts the timers and gossip.
    public func start() async throws {
        let handler = NodeWireHandler(node: self)
        let identity = WireIdentity(
            clusterName: configuration.clusterName, node: id, secret: configuration.secret.map(ClusterSecret.init))
        wireServer = try await WireServer.start(
            host: configuration.listenHost, port: configuration.listenPort, identity: identity, group: eventLoop,
            handler: handler, logger: logger)
        if let state = core.membership?.state { try files.saveMembership(state, me: id, address: configuration.listenAddress) }
        drive { core, now, wall in core.start(now: now, wallNow: wall) }
        logger.info("node listening", metadata: [
            "cairn.listen": "\(configuration.listenAddress)", "cairn.cluster": "\(configuration.clusterName)",
            "cairn.seeds": "\(configuration.seeds.joined(separator: ","))",
        ])
        noteReplication()
    }

    /// Stops taking requests, fails those in flight, closes the transport and flushes and
    /// closes every engine, so nothing is left half-written.
    public func stop() async {
        guard !isStopping else { return }
        isStopping = true
        wakeTask?.cancel()
        wakeTask = nil
        let shuttingDown = KeyValueServiceError(.unavailable, "the node is shutting down", retryAfterSeconds: 1)
        for (_, waiting) in clientWrites { waiting.continuation.resume(throwing: shuttingDown) }
        clientWrites = [:]
        for (_, waiting) in clientReads { waiting.continuation.resume(throwing: shuttingDown) }
        clientReads = [:]
        for (_, continuation) in clientCAS { continuation.resume(throwing: shuttingDown) }
        clientCAS = [:]
        for (_, continuation) in clientScans { continuation.resume(throwing: shuttingDown) }
        clientScans = [:]
        await wireServer?.shutdown()
        await pool.shutdown()
        await drainStorage()
        var closedCleanly = store.close()
        do { try hintStore.close() } catch {
            closedCleanly = false
            logger.error("closing the hint store failed", metadata: ["error": "\(error)"])
        }
        do { try paxos.close() } catch {
            closedCleanly = false
            logger.error("closing the Paxos store failed", metadata: ["error": "\(error)"])
        }
        if closedCleanly && core.isIdle {
            do { try files.markCleanStop() } catch {
                logger.error("recording the clean stop failed", metadata: ["error": "\(error)"])
            }
        }
        logger.info("node stopped", metadata: ["cairn.node": "\(id)"])
    }

    /// Waits (at most 5 s) until the core has no storage work, for a clean shutdown.
    func drainStorage() async {
        for _ in 0..<500 where !core.isIdle {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: timers

    /// Fires the core's timers that are due, then sleeps until the next one (no polling: an
    /// idle node wakes only for its own timers).
    func fireTimers() {
        wakeAt = nil
        wakeTask = nil
        guard !isStopping else { return }
        while let (_, timer) = timers.next(dueBy: clockNow().milliseconds) {
            let random = UInt64.random(in: 0...UInt64.max)
            drive { core, now, wall in core.onTimer(timer, random: random, now: now, wallNow: wall) }
        }
        noteReplication()
        armTimer()
    }

    /// Makes sure a task wakes the node at the earliest timer.
    func armTimer() {
        guard !isStopping, let next = timers.peekTime else { return }
        if let wakeAt, wakeAt <= next, wakeTask != nil { return }
        wakeTask?.cancel()
        wakeAt = next
        let now = clockNow().milliseconds
        let delay = next > now ? next - now : 0
        wakeTask = eventLoop.scheduleTask(in: .milliseconds(Int64(delay))) { [weak self] in
            self?.assumeIsolated { $0.fireTimers() }
        }
    }

    // MARK: helpers

    var ring: Ring? { core.ring }

    func address(of node: NodeID) -> String? { core.cluster.members[node]?.address }

}


