import CairnCheck
import CairnCore
import CairnNodeCore

/// A whole Cairn cluster in one process: nodes made of the CairnCore state machines, a faulty
/// network, crashes, restarts and disk loss, clients running a workload, all in virtual time
/// from one seed. `run()` plays the seed and checks the invariants; the same seed replays the
/// same run exactly.
///
/// The phases of a run:
/// 1. *Forming*: node 0 bootstraps the cluster, the others join through random earlier nodes
///    by gossip; clients start once every node holds the full ring.
/// 2. *Clients and faults*: clients run the workload while the nemesis crashes and restarts
///    nodes (one may lose its disk), partitions the network (symmetric, one-way, bridge) and
///    heals it, over a network that drops, duplicates and delays messages.
/// 3. *Healing*: every node up, every link restored, no more drops; the failure detectors
///    settle.
/// 4. *Liveness*: every node coordinates requests, each of which must succeed within a bound.
/// 5. *Convergence*: anti-entropy and hint delivery run until every replica of every key holds
///    the same object (within a bound), then the final reads go to the checkers.
public final class Simulation {
    public let seed: UInt64
    public let options: SimOptions
    var queue = EventQueue<SimEvent>()
    var network: SimNetwork
    var nodes: [SimNode] = []
    var clients: [SimClient] = []
    var networkRandom: SimRandom
    var nemesisRandom: SimRandom
    var clientRandom: SimRandom
    var nodeRandom: SimRandom
    var diskRandom: SimRandom
    /// Set by the nemesis: crash the next node that applies a coordinated write, before it syncs.
    var crashAtNextWrite = false
    let membershipSettings = Membership.Settings(
        gossipIntervalMilliseconds: 100, heartbeatIntervalMilliseconds: 100,
        detector: PhiAccrualDetector.Settings(
            threshold: 8, maxSampleSize: 100, minStandardDeviationMilliseconds: 20,
            acceptableHeartbeatPauseMilliseconds: 300, firstHeartbeatEstimateMilliseconds: 100))
    let clusterName = "sim"
    let clientTimeoutMilliseconds: UInt64 = 2_500
    let requestTimeoutMilliseconds: UInt64 = 1_000
    /// When clients stop issuing new operations.
    var clientsStopAt: UInt64 = 0
    var clientsStarted = false
    var faultsActive = false
    var diskLossUsed = false
    /// The largest wall-clock offset any node has had: TTL checks allow it either way.
    var maxClockSkewMilliseconds: UInt64 = 0
    /// Problems found while running (a broken invariant of the shell, a stuck phase).
    var violations: [String] = []
    var stats = SimStats()
    var setChecker = SetChecker()
    var registerHistories: [Int: [RegisterOp]] = [:]
    var overwriteChecker = OverwriteChecker()
    var registerGets: [RegisterGet] = []
    /// The history of every dead object a reaper removed, per key.
    var reapedHistories: [Int: [ReapedObject]] = [:]
    var excludedRegisterOps: Set<RegisterKeyIndex> = []
    var probeReplies: [UInt64: ClientReply] = [:]
    var nextProbe: UInt64 = 1
    var finalReadTime: UInt64 = 0
    var finalReadCall = 0
    var finalElements: [Int: Set<UInt64>] = [:]
    var nextElement: UInt64 = 1
    var nextRegisterValue = 1
    var eventCount = 0
    /// When set, every step that touches this key is logged to `traceLog` (`cairn-sim --trace-key`).
    public var traceKey: Int?
    public private(set) var traceLog: [String] = []

    public init(seed: UInt64, options: SimOptions) {
        self.seed = seed
        self.options = options
        let root = SimRandom(seed: seed)
        networkRandom = root.fork(1)
        nemesisRandom = root.fork(2)
        clientRandom = root.fork(3)
        nodeRandom = root.fork(4)
        diskRandom = root.fork(5)
        var scenario = root.fork(5)
        var faults = SimNetwork.Faults.calm
        if options.faults {
            faults = SimNetwork.Faults(
                dropProbability: Double(scenario.between(0...8)) / 100,
                duplicateProbability: Double(scenario.between(0...5)) / 100,
                minimumDelayMilliseconds: 1,
                maximumDelayMilliseconds: scenario.between(3...30))
        }
        network = SimNetwork(faults: faults)
    }

    // MARK: running

    /// Plays the whole run and returns what the checkers found.
    public func run() -> SimResult {
        form()
        // Formed: every node holds the full ring and the handoff of the joins is over.
        guard runUntil(limit: 60_000, { self.ringComplete && self.handoffSettled }) else {
            violations.append("cluster did not form: rings \(nodes.map { $0.core?.ring?.members.count ?? 0 })")
            return result()
        }
        startClients()
        faultsActive = options.faults
        if faultsActive { queue.schedule(.nemesis, after: nemesisRandom.between(100...800)) }
        clientsStopAt = queue.now + options.clientPhaseMilliseconds
        _ = runUntil(limit: options.clientPhaseMilliseconds) { false }
        faultsActive = false
        // Let the last operations finish (their client timeouts bound this).
        _ = runUntil(limit: clientTimeoutMilliseconds + 500) { self.clients.allSatisfy { $0.current == nil } }
        heal()
        _ = runUntil(limit: 2_000) { false }
        checkLiveness()
        checkConvergence()
        finalReads()
        checkNothingReapedCameBack()
        checkRegistersReadAlike()
        checkScans()
        checkOverwrites()
        return result()
    }

    /// Runs events until `done` holds (checked after each event) or `limit` virtual ms pass.
    @discardableResult
    func runUntil(limit: UInt64, _ done: () -> Bool) -> Bool {
        let deadline = queue.now + limit
        while let next = queue.peekTime, next <= deadline {
            if done() { return true }
            guard let (_, event) = queue.next() else { break }
            eventCount += 1
            handle(event)
        }
        return done()
    }

    func handle(_ event: SimEvent) {
        switch event {
        case .deliver(let to, let from, let message):
            guard nodes[to].isUp else { return }
            receive(message, at: to, from: from)
        case .coreTimer(let node, let generation, let shard, let timer):
            guard isCurrent(node, generation) else { return }
            let random = nodeRandom.next()
            drive(node, shard: shard) { core, now, wall in core.onTimer(timer, random: random, now: now, wallNow: wall) }
        case .callTimeout(let node, let generation, let shard, let call):
            guard isCurrent(node, generation) else { return }
            callTimedOut(node, shard: shard, call: call)
        case .crash(let node, let generation):
            guard isCurrent(node, generation), faultsActive, nodes.indices.filter({ !nodes[$0].isUp }).count < 2 else { return }
            crashAndRestartLater(node)
        case .storageDone(let node, let generation, let shard, let operation, let key, let result):
            guard isCurrent(node, generation) else { return }
            if let index = nodes[node].unsynced.firstIndex(where: { $0.key == key }) { nodes[node].unsynced.remove(at: index) }
            drive(node, shard: shard) { core, now, wall in core.onStorage(operation: operation, result, now: now, wallNow: wall) }
        case .shardEvent(let node, let generation, let shard, let shardEvent):
            guard isCurrent(node, generation) else { return }
            stats.shardMessages += 1
            switch shardEvent {
            case .cluster(let snapshot):
                drive(node, shard: shard) { core, now, wall in core.onCluster(snapshot, now: now, wallNow: wall) }
            case .status(let from, let status):
                drive(node, shard: shard) { core, now, wall in core.onShardStatus(from: from, status, now: now, wallNow: wall) }
            }
        case .clientRequest(let node, let client, let operation, let request):
            guard nodes[node].isUp else {
                // Connection refused: nothing reached the node.
                queue.schedule(.clientReply(client: client, operation: operation, .failed("connection refused")), after: 1)
                return
            }
            clientRequest(request, at: node, client: client, operation: operation)
        case .clientReply(let client, let operation, let reply):
            clientReceived(reply, client: client, operation: operation)
        case .clientTimeout(let client, let operation):
            clientTimedOut(client, operation: operation)
        case .clientWake(let client):
            clientWake(client)
        case .nemesis:
            nemesis()
        case .restart(let node, let loseDisk):
            restart(node, loseDisk: loseDisk)
        }
    }

    func trace(_ key: Int, _ line: @autoclosure () -> String) {
        guard key == traceKey else { return }
        traceLog.append("t=\(queue.now) " + line())
    }

    /// A cluster event (crash, membership, ring change) shown in any key's trace.
    func traceCluster(_ line: @autoclosure () -> String) {
        guard traceKey != nil else { return }
        traceLog.append("t=\(queue.now) * " + line())
    }

    static func show(_ object: SimObject?) -> String {
        guard let object else { return "none" }
        let siblings = object.siblings.map { s -> String in
            let content: String
            switch s.sibling.content {
            case .tombstone: content = "✝"
            case .value(let v): content = "\(SimValues.decode(v))"
            }
            return "(\(s.dot.actor.node.low)@\(s.dot.actor.epoch),\(s.dot.counter))=\(content)"
        }
        let context = object.join().entries.map { "\($0.actor.node.low)@\($0.actor.epoch):\($0.counter)" }
        return "{" + context.joined(separator: " ") + "} " + siblings.joined(separator: " ")
    }

    func isCurrent(_ node: Int, _ generation: UInt64) -> Bool {
        nodes[node].isUp && nodes[node].generation == generation
    }

    // MARK: the network

    /// Sends `message` from node `from` to node `to` through the faulty network.
    func send(_ message: SimMessage, from: Int, to: Int) {
        stats.messages += 1
        for delay in network.deliveries(from: from, to: to, random: &networkRandom) {
            queue.schedule(.deliver(to: to, from: from, message), after: delay)
        }
    }

    func reply(to client: Int, operation: UInt64, _ reply: ClientReply) {
        queue.schedule(.clientReply(client: client, operation: operation, reply), after: 1)
    }

    // MARK: forming the cluster

    func form() {
        // With membership changes, the last node joins later, while clients run.
        let initial = membershipChangesOn ? options.nodes - 1 : options.nodes
        for index in 0..<options.nodes {
            let id = SimNode.nodeID(index)
            if index >= initial {
                let shards = options.shards ?? Int(nodeRandom.between(1...3))
                nodes.append(SimNode(index: index, id: id, shardCount: shards))
                if shards > 1 { stats.shardedNodes += 1 }
                nodes[index].role = .outsider
                nodes[index].isUp = false
                continue
            }
            let instance: Membership.Instance
            if index == 0 {
                instance = .bootstrap(
                    id, address: SimNode.address(0), clusterName: clusterName, partitionCount: options.partitions,
                    targetReplicas: options.n, settings: membershipSettings, signatures: SimSignatures(node: id))
            } else {
                let seedNode = Int(nodeRandom.between(0...UInt64(index - 1)))
                instance = Membership.Instance(
                    joining: id, address: SimNode.address(index), clusterName: clusterName,
                    seeds: [SimNode.address(seedNode)], settings: membershipSettings, signatures: SimSignatures(node: id))
            }
            let shards = options.shards ?? Int(nodeRandom.between(1...3))
            nodes.append(SimNode(index: index, id: id, shardCount: shards))
            if shards > 1 { stats.shardedNodes += 1 }
            if options.clockSkew {
                nodes[index].skewMilliseconds = Int64(nodeRandom.between(0...2_000)) - 1_000
                maxClockSkewMilliseconds = max(maxClockSkewMilliseconds, nodes[index].skewMilliseconds.magnitude)
            }
            if let fixed = options.fixedSkewsMilliseconds, index < fixed.count {
                nodes[index].skewMilliseconds = fixed[index]
                maxClockSkewMilliseconds = max(maxClockSkewMilliseconds, fixed[index].magnitude)
            }
            stats.clockSkewMilliseconds = maxClockSkewMilliseconds
            nodes[index].membershipState = instance.state
            boot(index, membership: instance)
        }
    }

    /// No node waits for a partition or owes a transfer.
    var handoffSettled: Bool {
        serving.map { nodes[$0] }.allSatisfy { node in
            guard node.core != nil else { return false }
            return node.pendingPartitions.isEmpty && node.activeTransfers.isEmpty
        }
    }

    /// Every node holds the same ring, with every node a member.
    var ringComplete: Bool {
        let members = nodes.filter { $0.role == .member }
        guard let first = members.first?.core?.ring, first.members == members.map(\.id).sorted() else { return false }
        guard members.allSatisfy({ $0.core?.ring == first }) else { return false }
        return true
    }

    /// Rebuilds a node's volatile state from its disk and starts its core (and its timers).
    func boot(_ index: Int, membership: Membership.Instance, afterUncleanStop: Bool = false) {
        nodes[index].trees = [:]
        bootCore(index, membership: membership, afterUncleanStop: afterUncleanStop)
    }

    var hintLimits: HintLedger.Limits { HintLedger.Limits(maxBytes: 1 << 20, maxAgeMilliseconds: 60_000, batchSize: 8) }
    /// Short, so keys deleted or expired early in the client phase are reaped while clients
    /// still run (longer than a request's timeout, so no older copy is still in flight). The
    /// broken mode `reapWithoutConfirmation` reaps a dead key at once as well.
    var reapGraceMilliseconds: UInt64 { options.broken == .reapWithoutConfirmation ? 1 : 1_500 }
    /// Acceptor states collected after this: it must exceed the clock skew the nemesis makes
    /// (±1 s, and steps of up to ±5 s) — with 3 s, 3 of 10,000 CAS seeds broke, a lagging
    /// proposer's ballot taken as settled (docs/cas.md, "Collecting acceptor states").
    var acceptorGraceMilliseconds: UInt64 { 8_000 }

    // MARK: crashes

    func crash(_ index: Int) {
        guard nodes[index].isUp else { return }
        stats.crashes += 1
        traceCluster("node \(index) crashes")
        nodes[index].isUp = false
        nodes[index].generation += 1
        // The disk loses the writes it had not synced yet.
        for (key, previous) in nodes[index].unsynced.reversed() {
            stats.unsyncedWritesLost += 1
            trace(key, "node \(index) loses its unsynced write; back to \(Simulation.show(previous?.object))")
            nodes[index].store[key] = previous
        }
        nodes[index].unsynced = []
        // Memory is gone: machines in flight, trees, the ledger's in-flight state, timers.
        nodes[index].cores = []
        nodes[index].clientTickets = [:]
        nodes[index].replyRoutes = [:]
        nodes[index].openCalls = []
        nodes[index].trees = [:]
    }

    func restart(_ index: Int, loseDisk: Bool) {
        guard !nodes[index].isUp, nodes[index].role == .member else { return }
        var node = nodes[index]
        traceCluster("node \(index) restarts\(loseDisk ? ", its disk lost" : "")")
        if loseDisk {
            stats.disksLost += 1
            node.store = [:]
            node.hintRecords = [:]
            node.hintLog = [:]
            node.acceptors = [:]
            node.acceptorFloor = 0
            node.disksLost += 1
            // The mint counter went with the disk. The real node comes back under a new
            // identity; the simulator keeps the member and moves its epochs out of reach.
            node.mintLeases = [0: UInt64(node.disksLost) << 40]
        }
        node.isUp = true
        let membership = Membership.Instance(
            restoring: node.membershipState!, me: node.id, address: node.address,
            seeds: members.filter { $0 != index }.map { SimNode.address($0) }, settings: membershipSettings,
            signatures: SimSignatures(node: node.id))
        nodes[index] = node
        // Every simulated stop is a crash: no epoch recorded before it is trusted.
        boot(index, membership: membership, afterUncleanStop: options.broken != .trustEpochsAfterCrash)
    }

    // MARK: membership changes

    var membershipChangesOn: Bool { options.membershipChanges && options.faults }

    /// Members that have not left (up or down).
    var members: [Int] {
        nodes.indices.filter { nodes[$0].role == .member && !(nodes[$0].core?.cluster.members[nodes[$0].id]?.status.isTombstone ?? false) }
    }

    /// Members up and serving: where clients and probes go.
    var serving: [Int] { members.filter { nodes[$0].isUp } }

    /// The node that has not joined yet joins through a random member.
    func joinOutsider() {
        guard membershipChangesOn, let index = nodes.indices.first(where: { nodes[$0].role == .outsider }) else { return }
        // Every member is a seed, as in a deployment's seed list: one seed that crashes, leaves
        // or is removed must not strand the joiner.
        let instance = Membership.Instance(
            joining: nodes[index].id, address: nodes[index].address, clusterName: clusterName,
            seeds: members.map { SimNode.address($0) }, settings: membershipSettings,
            signatures: SimSignatures(node: nodes[index].id))
        nodes[index].role = .member
        nodes[index].isUp = true
        if options.clockSkew {
            nodes[index].skewMilliseconds = Int64(nodeRandom.between(0...2_000)) - 1_000
            maxClockSkewMilliseconds = max(maxClockSkewMilliseconds, nodes[index].skewMilliseconds.magnitude)
        }
        nodes[index].membershipState = instance.state
        stats.joins += 1
        traceCluster("node \(index) joins")
        boot(index, membership: instance)
    }

    /// A member that is up leaves (once per run, keeping N + 1 members): it hands its
    /// partitions off, then stops serving.
    func leaveMember() {
        guard membershipChangesOn, stats.leaves == 0, members.count > options.n + 1 else { return }
        let candidates = serving.filter { nodes[$0].core?.cluster.members[nodes[$0].id]?.status == .valid }
        guard !candidates.isEmpty else { return }
        let node = candidates[Int(nemesisRandom.between(0...UInt64(candidates.count - 1)))]
        stats.leaves += 1
        traceCluster("node \(node) leaves")
        drive(node) { core, now, wall in (try? core.onLeave(now: now, wallNow: wall)) ?? [] }
    }

    /// A crashed member is removed by an operator through another member (once per run,
    /// keeping N members; no disk is lost in such a run: that would be two failures beyond
    /// what N = 3 replicas tolerate once the removed node's copies are gone).
    func removeCrashedMember() {
        guard membershipChangesOn, stats.removes == 0, !diskLossUsed, members.count > options.n else { return }
        let down = members.filter { !nodes[$0].isUp }
        guard let victim = down.first, let through = serving.first else { return }
        let id = nodes[victim].id
        var removed = false
        drive(through) { core, now, wall in
            guard let commands = try? core.onRemove(id, now: now, wallNow: wall) else { return [] }
            removed = true
            return commands
        }
        // Only a member the operator's node knows can be removed (a joiner it has not heard of is not).
        guard removed else { return }
        diskLossUsed = true
        stats.removes += 1
        traceCluster("node \(victim) is removed through node \(through)")
        nodes[victim].role = .removed
    }

    // MARK: the nemesis

    func nemesis() {
        guard faultsActive else { return }
        let all = Set(0..<options.nodes)
        let down = all.filter { !nodes[$0].isUp }
        switch nemesisRandom.between(0...13) {
        case 0, 1:
            // Crash a node, at most two down at once; restart it later, maybe without its disk.
            if down.count < 2 {
                let victim = Int(nemesisRandom.between(0...UInt64(options.nodes - 1)))
                if nemesisRandom.chance(0.4) {
                    // The next coordinator to store a write crashes before the write is
                    // synced, its dot already on its way to the other replicas.
                    crashAtNextWrite = true
                } else if nodes[victim].isUp {
                    crashAndRestartLater(victim)
                }
            }
        case 2, 3:
            var a: Set<Int> = []
            for node in 0..<options.nodes where nemesisRandom.chance(0.5) { a.insert(node) }
            if !a.isEmpty && a.count < options.nodes {
                stats.partitions += 1
                network.split(a, all.subtracting(a))
            }
        case 4:
            let node = Int(nemesisRandom.between(0...UInt64(options.nodes - 1)))
            stats.partitions += 1
            network.isolate(node, from: all)
        case 5:
            var a: Set<Int> = []
            for node in 0..<options.nodes where nemesisRandom.chance(0.5) { a.insert(node) }
            if !a.isEmpty && a.count < options.nodes {
                stats.partitions += 1
                network.cutOneWay(from: a, to: all.subtracting(a))
            }
        case 6:
            var a: Set<Int> = []
            for node in 0..<options.nodes where nemesisRandom.chance(0.5) { a.insert(node) }
            let bridge = Int(nemesisRandom.between(0...UInt64(options.nodes - 1)))
            stats.partitions += 1
            network.bridge(a.union([bridge]), all.subtracting(a).union([bridge]), through: bridge)
        case 10:
            joinOutsider()
        case 11:
            leaveMember()
        case 12:
            removeCrashedMember()
        case 13:
            if options.clockSkew {
                let node = Int(nemesisRandom.between(0...UInt64(options.nodes - 1)))
                nodes[node].skewMilliseconds += Int64(nemesisRandom.between(0...10_000)) - 5_000
                maxClockSkewMilliseconds = max(maxClockSkewMilliseconds, nodes[node].skewMilliseconds.magnitude)
                stats.clockSkewMilliseconds = maxClockSkewMilliseconds
                stats.clockSteps += 1
            }
        default:
            network.heal()
        }
        queue.schedule(.nemesis, after: nemesisRandom.between(200...1_200))
    }

    func crashAndRestartLater(_ victim: Int) {
        crash(victim)
        let loseDisk = options.diskLoss && options.workload != .cas && !diskLossUsed && nemesisRandom.chance(0.3)
        if loseDisk { diskLossUsed = true }
        queue.schedule(.restart(node: victim, loseDisk: loseDisk), after: nemesisRandom.between(200...2_000))
    }

    /// Ends every fault: all links back, no drops or duplicates, every node up with its disk.
    func heal() {
        network.heal()
        network.faults.dropProbability = 0
        network.faults.duplicateProbability = 0
        for index in nodes.indices where !nodes[index].isUp && nodes[index].role == .member {
            restart(index, loseDisk: false)
        }
    }
}

/// Counts of what a run did, for the summary line.
public struct SimStats: Sendable, Hashable {
    public var messages = 0
    public var crashes = 0
    /// Coordinators' writes a crash undid (applied, replicated, not yet synced).
    public var unsyncedWritesLost = 0
    public var disksLost = 0
    public var partitions = 0
    public var operations = 0
    public var acknowledged = 0
    public var hintsStored = 0
    public var hintsDelivered = 0
    public var exchanges = 0
    public var repairedByExchange = 0
    public var readRepairs = 0
    public var hintsDroppedToExchange = 0
    public var clockSteps = 0
    /// The largest skew of a node's own clock, and the largest error of a node's corrected
    /// clock (`ClusterClock`) while clients ran, milliseconds.
    public var clockSkewMilliseconds: UInt64 = 0
    public var clockErrorMilliseconds: UInt64 = 0
    /// Membership changes the nemesis made (joins, leaves, removes) and handoff transfers.
    public var joins = 0
    public var leaves = 0
    /// Nodes that ran more than one core instance, and messages between a node's instances.
    public var shardedNodes = 0
    public var shardMessages = 0
    public var removes = 0
    public var transfers = 0
    public var transfersFailed = 0
    public var convergenceMilliseconds: UInt64 = 0
    /// Keys listed by the scans at quiescence.
    public var scannedKeys = 0
    /// Dead keys removed physically by the reapers.
    public var reaped = 0
    /// Copies of partitions dropped by former replicas once every primary held them.
    public var orphansDropped = 0
    /// CAS acceptor states collected.
    public var acceptorsCollected = 0
    /// Gained partitions whose acceptor states a node gathered from the other members.
    public var casStatesHandedOver = 0
    /// Gossiped rings a node did not take yet (ahead of the entries it held), and entries it
    /// refused (a removal signed by a node not yet in its ring).
    public var ringsRefused = 0
    public var entriesRefused = 0
}


/// A dead object a reaper removed: its history, and the dots of its own (dead) siblings.
struct ReapedObject {
    var history: CausalContext
    var dots: Set<Dot>
}
