import CairnCore
import CairnHTTP
import CairnNodeCore
import CairnStorage
import CairnTransport
import CairnWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One Cairn node: the executor of the node core over real sockets and files
/// (docs/design.md §1, docs/architecture.md "The node").
///
/// Everything the node decides, `NodeCore` decides (`Sources/CairnNodeCore`). A node runs one
/// core instance per event loop it is given (`NodeConfiguration.cores`), each owning the
/// partitions `p` with `p % count == index` (`Shard`) and executed by its own actor
/// (`NodeInstance`) on its own loop, so requests for different partitions run on different
/// cores with no lock or shared actor between them. This type is the front: it routes each
/// client request to the instance that owns its key (`ShardRouter`), each peer request to the
/// instance that owns its partition, and membership, scans and operator actions to the home
/// instance; it opens and closes what the instances share (the stores and files). The
/// simulator runs the same cores over a simulated network and disk.
public final class Node: Sendable {
    public let configuration: NodeConfiguration
    public let id: NodeID
    let shared: NodeShared
    let instances: [NodeInstance]
    /// The loops the instances run on, one each; the client listeners use the same loops.
    public let eventLoopGroup: any EventLoopGroup
    private let wireServer = Mutex<WireServer?>(nil)

    /// Opens the data directory (creating the identity on first start) and restores the
    /// membership state, hints, handoff state and mint leases. `start()` then listens and joins.
    /// One core instance runs on each loop of `group`, at most `configuration.cores`.
    public init(configuration: NodeConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        let files = NodeFiles(directory: configuration.dataDirectory)
        try DurableFiles.makeDirectory(configuration.dataDirectory)
        // The node's files are its own: a directory made by hand, or by an earlier version, is
        // closed to other users too (files are created 0600, directories 0700).
        try DurableFiles.restrictToOwner(configuration.dataDirectory)
        let (id, signingKey, created) = try files.loadOrCreateIdentity(allowUnprovenIdentity: configuration.acceptUnprovenMembership)
        self.id = id
        var storageOptions = StorageOptions(durability: configuration.durability)
        storageOptions.maxKeyBytes = configuration.maxKeyBytes
        storageOptions.maxFileSizeBytes = configuration.dataFileBytes
        storageOptions.mergeMinDeadBytes = min(storageOptions.mergeMinDeadBytes, configuration.dataFileBytes / 2)
        // A stored object is any object a replica path may carry: merges of concurrent writes
        // near the object budget included (`DVVSet.maxReplicaObjectBytes`), with its record's
        // mint epoch.
        storageOptions.maxValueBytes = DVVSet<[UInt8]>.maxReplicaObjectBytes + 64
        let store = try ReplicaStore(
            directory: files.partitions, logDirectory: files.commitLog, partitionCount: Ring.maximumPartitionCount, options: storageOptions,
            replacesOnMerge: configuration.unsafeLastWriterWins, logger: logger)
        if configuration.unsafeLastWriterWins {
            logger.warning("UNSAFE MODE last-writer-wins: replicas replace their copies instead of merging; concurrent writes WILL be lost. For testing the chaos checkers only.")
        }
        if configuration.acceptUnprovenMembership {
            logger.warning("UNSAFE MODE unproven-membership: gossiped membership is taken without its signatures; any connected peer can remove members.")
        }
        var hintOptions = StorageOptions(durability: configuration.durability)
        hintOptions.maxKeyBytes = 8
        hintOptions.maxValueBytes = storageOptions.maxValueBytes + configuration.maxKeyBytes + 64
        let hintStore = try HintStore(directory: files.hints, options: hintOptions, logger: logger)
        var paxosOptions = StorageOptions(durability: configuration.durability)
        paxosOptions.maxKeyBytes = configuration.maxKeyBytes
        paxosOptions.maxValueBytes = 2 * configuration.maxValueBytes + 256
        let paxos = try PaxosStore(directory: files.paxos, options: paxosOptions, limits: WireLimits(), logger: logger)
        let persistedLease = try files.loadMintLease()
        // A new data directory has nothing to distrust; otherwise only a clean stop is trusted.
        let afterUncleanStop = try !files.takeCleanStopMark() && !created

        var loops: [any EventLoop] = []
        for loop in group.makeIterator() where loops.count < configuration.cores { loops.append(loop) }
        let shards = Shard.all(count: loops.count)
        eventLoopGroup = group
        let shared = NodeShared(
            configuration: configuration, id: id, logger: logger, files: files, store: store, hintStore: hintStore, paxos: paxos,
            shardCount: shards.count)
        self.shared = shared

        let membership = try Self.membership(configuration: configuration, id: id, signingKey: signingKey, files: files)
        let restoredHints = try hintStore.all(logger: logger).map { HintEntry(hint: $0.hint, key: $0.key, object: $0.object) }
        let hintIDFloor = (restoredHints.map(\.hint.id).max() ?? 0) + 1
        let handoff = try Self.loadHandoffStates(files: files, me: id)
        var coreSettings = NodeCore.Settings(
            replicas: configuration.replicas, readQuorum: configuration.readQuorum, writeQuorum: configuration.writeQuorum,
            requestTimeoutMilliseconds: configuration.requestTimeoutMilliseconds, siblingLimit: configuration.siblingLimit,
            maxObjectBytes: configuration.maxObjectBytes,
            maintenanceIntervalMilliseconds: configuration.exchangeIntervalMilliseconds)
        coreSettings.reapGraceMilliseconds = UInt64(configuration.tombstoneGraceSeconds) * 1_000
        coreSettings.acceptorGraceMilliseconds = UInt64(configuration.casStateGraceSeconds) * 1_000
        coreSettings.hintLimits.maxBytes = configuration.hintMaxBytes
        coreSettings.hintLimits.maxAgeMilliseconds = UInt64(configuration.hintMaxAgeSeconds) * 1_000
        coreSettings.handoffBytesPerSecond = configuration.handoffBytesPerSecond
        coreSettings.antiEntropyIntervalMilliseconds = configuration.antiEntropyIntervalMilliseconds
        coreSettings.clockBoundMilliseconds = configuration.clockBoundMilliseconds
        let instances = try shards.map { shard in
            let core = NodeCore(
                id: id, shard: shard, settings: coreSettings, membership: membership, persistedLease: persistedLease,
                hints: restoredHints.filter { shard.owns($0.hint.partition) }, hintIDFloor: hintIDFloor,
                handoff: handoff?.restricted(to: shard), now: .zero, wallNow: Self.wallClock(),
                incarnation: .random(in: 0...UInt32.max), afterUncleanStop: afterUncleanStop,
                keyHash: { ReplicaStore.keyHash($0) })
            return try NodeInstance(shared: shared, shard: shard, core: core, eventLoop: loops[shard.index])
        }
        self.instances = instances
        shared.instances.withLock { $0 = instances }
        if let ring = membership.ring { shared.learn(partitionCount: ring.ring.partitionCount) }
        try Self.resplitHandoffStates(handoff, files: files, shards: shards)
        logger.info("node opened", metadata: [
            "cairn.node": "\(id)", "cairn.new_identity": "\(created)", "cairn.data": "\(configuration.dataDirectory)",
            "cairn.hints": "\(restoredHints.count)", "cairn.partitions_on_disk": "\(store.partitions.count)",
            "cairn.clean_stop": "\(!afterUncleanStop)", "cairn.cores": "\(shards.count)",
        ])
    }

    /// The membership the node starts from: restored, a new cluster, or joining through seeds.
    private static func membership(
        configuration: NodeConfiguration, id: NodeID, signingKey: NodeSigningKey, files: NodeFiles
    ) throws -> Membership.Instance {
        var settings = Membership.Settings(
            gossipIntervalMilliseconds: configuration.gossipIntervalMilliseconds,
            heartbeatIntervalMilliseconds: configuration.heartbeatIntervalMilliseconds)
        settings.acceptUnprovenMembership = configuration.acceptUnprovenMembership
        settings.stagedJoin = configuration.stagedJoin
        let address = configuration.listenAddress
        if let state = try files.loadMembership(limits: WireLimits()) {
            guard state.clusterName == configuration.clusterName else {
                throw NodeError.wrongCluster(expected: configuration.clusterName, found: state.clusterName)
            }
            return Membership.Instance(
                restoring: state, me: id, address: address, seeds: configuration.seeds, settings: settings, signatures: signingKey)
        }
        if configuration.seeds.filter({ $0 != address }).isEmpty {
            return .bootstrap(
                id, address: address, clusterName: configuration.clusterName, partitionCount: configuration.partitions,
                targetReplicas: configuration.replicas, settings: settings, signatures: signingKey)
        }
        return Membership.Instance(
            joining: id, address: address, clusterName: configuration.clusterName, seeds: configuration.seeds, settings: settings,
            signatures: signingKey)
    }

    /// The handoff states every instance stored, whatever their count was, as one.
    private static func loadHandoffStates(files: NodeFiles, me: NodeID) throws -> NodeCore.HandoffState? {
        let states = try files.handoffStatePaths().sorted { $0.key < $1.key }.compactMap { _, path in
            try loadHandoffState(path: path, partitions: Ring.maximumPartitionCount, me: me)
        }
        return states.isEmpty ? nil : NodeCore.HandoffState.merged(states)
    }

    /// Stores each instance's part of `handoff` in its own file, then removes the files of
    /// instances this start no longer runs (a crash in between leaves duplicates, which merge).
    private static func resplitHandoffStates(_ handoff: NodeCore.HandoffState?, files: NodeFiles, shards: [Shard]) throws {
        let existing = try files.handoffStatePaths()
        guard let handoff, existing.keys.contains(where: { $0 >= shards.count }) else { return }
        for shard in shards { try saveHandoffState(handoff.restricted(to: shard), path: files.handoffPath(instance: shard.index)) }
        for (index, path) in existing where index >= shards.count { try DurableFiles.removeDurably(path) }
    }

    var home: NodeInstance { instances[0] }

    /// The instance that owns `key` (the home instance until the ring's partition count is known).
    func instance(forKey key: [UInt8]) -> NodeInstance { instances[shared.router.shard(forKey: key)] }

    /// The instance a peer's request or one-way message goes to.
    func instance(for message: WireMessage) -> NodeInstance { instances[shared.router.shard(for: message)] }

    public nonisolated static func wallClock() -> WallClockTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallClockTime(millisecondsSince1970: UInt64(spec.tv_sec) * 1_000 + UInt64(spec.tv_nsec) / 1_000_000)
    }

    // MARK: lifecycle

    /// Listens for peers, then starts every instance (the home one persists the membership
    /// state and starts gossip).
    public func start() async throws {
        let identity = WireIdentity(
            clusterName: configuration.clusterName, node: id, secret: configuration.secret.map(ClusterSecret.init),
            tls: configuration.internodeTLS)
        let server = try await WireServer.start(
            host: configuration.listenHost, port: configuration.listenPort, identity: identity, group: eventLoopGroup,
            handler: NodeWireHandler(node: self), logger: shared.logger)
        wireServer.withLock { $0 = server }
        for instance in instances { try await instance.start() }
        shared.logger.info("node listening", metadata: [
            "cairn.listen": "\(configuration.listenAddress)", "cairn.cluster": "\(configuration.clusterName)",
            "cairn.seeds": "\(configuration.seeds.joined(separator: ","))",
        ])
    }

    /// Stops taking requests, fails those in flight, closes the transport and flushes and
    /// closes every engine, so nothing is left half-written; marks a clean stop when all of
    /// that succeeded.
    public func stop() async {
        guard shared.beginStopping() else { return }
        let server = wireServer.withLock { server in defer { server = nil }; return server }
        await server?.shutdown()
        var idle = true
        for instance in instances where await !instance.stop() { idle = false }
        var closedCleanly = shared.store.close()
        do { try shared.hintStore.close() } catch {
            closedCleanly = false
            shared.logger.error("closing the hint store failed", metadata: ["error": "\(error)"])
        }
        do { try shared.paxos.close() } catch {
            closedCleanly = false
            shared.logger.error("closing the Paxos store failed", metadata: ["error": "\(error)"])
        }
        if closedCleanly && idle {
            do { try shared.files.markCleanStop() } catch {
                shared.logger.error("recording the clean stop failed", metadata: ["error": "\(error)"])
            }
        }
        shared.logger.info("node stopped", metadata: ["cairn.node": "\(id)"])
    }
}

/// What a node's instances share: identity, settings, stores, files, metrics, the partition
/// count the router needs, and each other (to pass on membership and status).
final class NodeShared: Sendable {
    let configuration: NodeConfiguration
    let id: NodeID
    let logger: Logger
    let files: NodeFiles
    let store: ReplicaStore
    let hintStore: HintStore
    let paxos: PaxosStore
    let metrics = NodeMetrics()
    let started = ContinuousClock.now
    let shardCount: Int
    /// The cluster's partition count once known (0 before); it never changes for a cluster.
    private let partitionCount = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Milliseconds added to this machine's wall clock to read the cluster's (`ClusterClock`),
    /// as the home instance last estimated it.
    let clockCorrection = Atomic<Int64>(0)
    /// A membership plan is being carried out through this node (one at a time).
    let commitUnderWay = Atomic<Bool>(false)

    /// The cluster's time: this machine's wall clock with the home instance's correction. Every
    /// instance and the client services read the wall clock through it (TTL expiry, hint ages).
    func clusterWallClock() -> WallClockTime {
        NodeShared.corrected(Node.wallClock(), by: clockCorrection.load(ordering: .relaxed))
    }

    static func corrected(_ wall: WallClockTime, by correction: Int64) -> WallClockTime {
        correction >= 0 ? wall + UInt64(correction) : wall - correction.magnitude
    }
    /// Set once, right after the instances are made.
    let instances = Mutex<[NodeInstance]>([])

    init(configuration: NodeConfiguration, id: NodeID, logger: Logger, files: NodeFiles, store: ReplicaStore,
         hintStore: HintStore, paxos: PaxosStore, shardCount: Int) {
        self.configuration = configuration
        self.id = id
        self.logger = logger
        self.files = files
        self.store = store
        self.hintStore = hintStore
        self.paxos = paxos
        self.shardCount = shardCount
    }

    /// Where each request goes (`ShardRouter`).
    var router: ShardRouter {
        let count = partitionCount.load(ordering: .relaxed)
        return ShardRouter(shardCount: shardCount, partitionCount: count == 0 ? nil : count, keyHash: { ReplicaStore.keyHash($0) })
    }

    func learn(partitionCount count: Int) {
        guard partitionCount.load(ordering: .relaxed) == 0 else { return }
        partitionCount.store(count, ordering: .relaxed)
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Marks the node stopping; false if it already was.
    func beginStopping() -> Bool { stopping.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged }

    /// The instances other than `index`.
    func instances(except index: Int) -> [NodeInstance] { instances.withLock { $0 }.filter { $0.shard.index != index } }
}
