import CairnCore
import CairnHTTP
import CairnNodeCore
import CairnStorage
import CairnTransport
import CairnWire
import Logging
import NIOCore
import NIOPosix

/// One core instance of a node: the executor of one `NodeCore` (the partitions of its `Shard`)
/// on one NIO event loop (docs/architecture.md, "The node").
///
/// The actor's executor is the loop, and its internode connections (`pool`) live on the same
/// loop, so a request, the messages it sends and their answers are steps in one loop's queue
/// rather than wake-ups of other threads; transport callbacks enter the actor with `onLoop`.
/// The instances of a node share nothing on the request path: each has its own core, timers,
/// waiting clients and connections, and only the stores (internally synchronised, each
/// partition written by its owner) and the files are common. The home instance (shard 0) runs
/// membership and tells the others of every change; each tells the others of its own state
/// (`NodeCore.statusIfChanged`), through their loops.
///
/// Two clocks: `clockNow()` (milliseconds since the node started) drives timers, coordinators
/// and the failure detector; `wallTime()` (milliseconds since 1970) is what TTL expiries and
/// hint ages are measured in, because those survive restarts and travel between nodes.
actor NodeInstance {
    let shared: NodeShared
    nonisolated let shard: Shard
    let pool: WirePool
    /// The draws the core asks for with timers and CAS (backoff jitter): a fast generator seeded
    /// once from the system's, rather than a `getrandom` system call per timer.
    var random = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
    /// The loop the actor runs on (its executor), and its transport's.
    nonisolated let eventLoop: any EventLoop
    nonisolated let executor: any SerialExecutor
    /// Every decision of this instance (the data path of its partitions, hints, anti-entropy,
    /// CAS, handoff, and on the home instance membership); the actor only executes its commands
    /// (`NodeInstance+Core.swift`).
    var core: NodeCore
    var clientReads: [UInt64: WaitingRead] = [:]
    var clientWrites: [UInt64: WaitingWrite] = [:]
    var clientCAS: [UInt64: CheckedContinuation<CAS.Proposer.Outcome, any Error>] = [:]
    var clientScans: [UInt64: CheckedContinuation<ScanPageResult, any Error>] = [:]
    var peerReplies: [UInt64: @Sendable (WireMessage) -> Void] = [:]
    var nextTicket: UInt64 = 1
    /// The core's timers, and the one task scheduled on the loop for the earliest of them.
    var timers = NodeTimers()
    var wakeAt: UInt64?
    var wakeTask: Scheduled<Void>?
    var isStopping = false
    /// The ring's member count when replication was last logged (`noteReplication`, home only).
    var loggedRingMembers: Int?
    /// The last anti-entropy exchange of each partition this instance ran, for
    /// `GET /v1/cluster/partitions` and the status page.
    var exchanges: [Int: ExchangeRecord] = [:]
    /// The partitions and hint targets the labelled gauges last reported (home only), so one
    /// that is gone is reported 0 once.
    var gaugedPartitions: Set<Int> = []
    var gaugedHintTargets: Set<NodeID> = []
    var gaugedExchanges: Set<Int> = []
    var gaugedClockPeers: Set<NodeID> = []

    /// One partition's anti-entropy as this instance saw it.
    struct ExchangeRecord: Sendable {
        var peer: NodeID
        var at: MonotonicTime
        /// Segments whose hashes differed in the last exchange (0: the trees agreed).
        var segmentsDiffering: Int
        var repaired: Int
        var exchanges = 1
        var repairedTotal: Int
    }

    init(shared: NodeShared, shard: Shard, core: NodeCore, eventLoop: any EventLoop) throws {
        self.shared = shared
        self.shard = shard
        self.core = core
        self.eventLoop = eventLoop
        executor = eventLoop.executor
        let configuration = shared.configuration
        let identity = WireIdentity(
            clusterName: configuration.clusterName, node: shared.id, secret: configuration.secret.map(ClusterSecret.init),
            tls: configuration.internodeTLS)
        pool = try WirePool(identity: identity, listenAddress: configuration.listenAddress, group: eventLoop, logger: shared.logger)
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Runs `body` on the actor from a callback of the transport, a timer or another instance:
    /// at once when already on the actor's loop, else in the loop's next turn.
    nonisolated func onLoop(_ body: @escaping @Sendable (isolated NodeInstance) -> Void) {
        if eventLoop.inEventLoop {
            assumeIsolated { body($0) }
        } else {
            eventLoop.execute { self.assumeIsolated { body($0) } }
        }
    }

    // MARK: what the instances share

    var configuration: NodeConfiguration { shared.configuration }
    var id: NodeID { shared.id }
    var logger: Logger { shared.logger }
    var files: NodeFiles { shared.files }
    var store: ReplicaStore { shared.store }
    var hintStore: HintStore { shared.hintStore }
    var paxos: PaxosStore { shared.paxos }
    var metrics: NodeMetrics { shared.metrics }

    // MARK: clocks

    /// The two clocks as the node core takes them (distinct types, so neither passes for the
    /// other): the monotonic clock, in milliseconds since the node started, and the wall clock.
    func clockNow() -> MonotonicTime {
        let elapsed = ContinuousClock.now - shared.started
        return MonotonicTime(milliseconds: UInt64(elapsed.components.seconds) * 1_000
            + UInt64(elapsed.components.attoseconds / 1_000_000_000_000_000))
    }

    /// The cluster's time (`ClusterClock`): the home instance applies its own correction and
    /// publishes it; the others take the published one.
    func wallTime() -> WallClockTime {
        guard shard.isHome else { return shared.clusterWallClock() }
        let correction = core.clockCorrectionMilliseconds
        shared.clockCorrection.store(correction, ordering: .relaxed)
        return NodeShared.corrected(Node.wallClock(), by: correction)
    }

    // MARK: lifecycle

    /// Starts the core: its timers, and on the home instance membership (persisted first).
    func start() throws {
        if let state = core.membership?.state { try files.saveMembership(state, me: id, address: configuration.listenAddress) }
        drive { core, now, wall in core.start(now: now, wallNow: wall) }
        if shard.isHome { noteReplication() }
    }

    /// Stops taking requests, fails those in flight, closes the connections and waits (at most
    /// 5 s) for the core's storage work; returns whether the core was idle at the end.
    func stop() async -> Bool {
        guard !isStopping else { return core.isIdle }
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
        await pool.shutdown()
        for _ in 0..<500 where !core.isIdle {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return core.isIdle
    }

    // MARK: timers

    /// Fires the core's timers that are due, then sleeps until the next one (no polling: an
    /// idle instance wakes only for its own timers).
    func fireTimers() {
        wakeAt = nil
        wakeTask = nil
        guard !isStopping else { return }
        // Timers the due ones schedule for now or earlier are taken in the next round.
        while case let due = timers.takeDue(by: clockNow().milliseconds), !due.isEmpty {
            for timer in due {
                let random = random.next()
                drive { core, now, wall in core.onTimer(timer, random: random, now: now, wallNow: wall) }
            }
        }
        if shard.isHome { noteReplication() }
        armTimer()
    }

    /// Makes sure a task wakes the instance at the earliest timer.
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
