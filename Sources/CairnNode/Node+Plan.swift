import CairnCore
import CairnHTTP
import CairnNodeCore

/// Membership plans (`POST /v1/cluster/plan`, `POST /v1/cluster/commit`; `cairn cluster plan`,
/// `cairn cluster commit`): the plan is computed by the home instance from its membership
/// state (`ClusterPlan`), sized with this node's partition statistics, and committed one step
/// at a time.
extension Node {
    func plan(leave: [String], remove: [String]) async throws -> JSONValue {
        let leaving = try await members(named: leave)
        let removing = try await members(named: remove)
        let plan = try await home.plan(leaving: leaving, removing: removing)
        let members = await home.memberEntries()
        var rate = 0
        for instance in instances { rate += await instance.handoffSendRate() }
        return PlanReport(plan: plan, members: members, stats: shared.store.partitionStats(), sendRate: rate).json
    }

    func commit(token: String) async throws -> JSONValue {
        guard shared.commitUnderWay.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw KeyValueServiceError.membershipConflict("a commit is under way on this node; wait for it, then plan again")
        }
        let plan: ClusterPlan
        do {
            plan = try await home.plan(token: token)
            try await home.checkCommitter(plan)
        } catch {
            shared.commitUnderWay.store(false, ordering: .releasing)
            throw error
        }
        // The steps run on their own task: a client that stops waiting does not stop a commit
        // half way (its steps would be done and the token stale).
        let task = Task {
            defer { self.shared.commitUnderWay.store(false, ordering: .releasing) }
            return try await self.carryOut(plan)
        }
        return try await task.value
    }

    private func carryOut(_ plan: ClusterPlan) async throws -> JSONValue {
        shared.logger.notice("committing a membership plan", metadata: [
            "cairn.plan": "\(plan.token)", "cairn.steps": "\(plan.steps.count)",
        ])
        var fromVersion = plan.ringVersion
        var done: [JSONValue] = []
        for (index, step) in plan.steps.enumerated() {
            if index > 0 {
                // Let gossip carry the last step's ring to every member before the next change,
                // so no node derives the next ring from an older one.
                try await Task.sleep(for: .milliseconds(Int64(2 * shared.configuration.gossipIntervalMilliseconds)))
            }
            try await home.carryOut(step, fromVersion: fromVersion)
            shared.logger.notice("plan step done", metadata: [
                "cairn.change": "\(step.change)", "cairn.ring_version": "\(step.ringVersion)", "cairn.transfers": "\(step.transfers.count)",
            ])
            done.append(.object([
                "change": .string(step.change.action), "node": .string(step.change.node.description),
                "ring_version": .integer(Int64(clamping: step.ringVersion)),
            ]))
            fromVersion = step.ringVersion
        }
        return .object([
            "plan": .string(plan.token), "committed": .array(done), "ring_version": .integer(Int64(clamping: fromVersion)),
        ])
    }

    private func members(named names: [String]) async throws -> [NodeID] {
        var ids: [NodeID] = []
        for name in names {
            guard let id = await home.member(named: name) else { throw KeyValueServiceError.nodeNotFound(name) }
            ids.append(id)
        }
        return ids
    }
}

extension NodeInstance {
    func plan(leaving: [NodeID], removing: [NodeID]) throws -> ClusterPlan {
        do {
            return try core.clusterPlan(leaving: leaving, removing: removing)
        } catch {
            throw Self.serviceError(error)
        }
    }

    func plan(token: String) throws -> ClusterPlan {
        do {
            return try core.clusterPlan(token: token)
        } catch {
            throw Self.serviceError(error)
        }
    }

    func memberEntries() -> [NodeID: Membership.Member] { core.cluster.members }

    /// The node that carries a plan out must stay an owner until its last step: joiners take a
    /// commit from owners only, and other nodes take removals from owners only.
    func checkCommitter(_ plan: ClusterPlan) throws {
        let status = core.cluster.members[id]?.status
        guard status == .valid else {
            throw KeyValueServiceError.membershipConflict("this node is \(status.map { "\($0)" } ?? "not a member"); commit through a valid member")
        }
        for step in plan.steps.dropLast() where step.change.node == id {
            throw KeyValueServiceError.membershipConflict(
                "the plan makes this node \(step.change.action == "leave" ? "leave" : "removed") before its last step; commit it through another member")
        }
    }

    /// Bytes per second this instance's handoff sends at most: its throttle per transfer times
    /// the transfers it runs at once (nothing while paused).
    func handoffSendRate() -> Int {
        let steering = core.handoffSteering
        return steering.paused ? 0 : steering.bytesPerSecond * core.settings.handoffConcurrency
    }

    /// Carries out one step of a committed plan and waits (at most 30 s) until this node holds
    /// the ring the plan predicted for it. A join's request is repeated every 2 s (the joiner
    /// takes it only once it holds the plan's ring); a ring other than the predicted one ends
    /// the commit.
    func carryOut(_ step: ClusterPlan.Step, fromVersion: UInt64) async throws {
        let started = clockNow()
        var sentAt = started
        do {
            let commands = try core.commitStep(step.change, ringVersion: fromVersion, now: started, wallNow: wallTime())
            drive { _, _, _ in commands }
        } catch {
            throw KeyValueServiceError.membershipConflict("cannot \(step.change): \(error)")
        }
        while true {
            if let ring = core.cluster.ring, ring.version >= step.ringVersion {
                guard ring.version == step.ringVersion, ring.ring == step.ringAfter else {
                    throw KeyValueServiceError(
                        .planStale,
                        """
                        after \(step.change) the ring is version \(ring.version), not the plan's version \(step.ringVersion) \
                        (another change raced the plan); the steps before this one are done: plan again
                        """)
                }
                return
            }
            try await Task.sleep(for: .milliseconds(50))
            guard !isStopping else {
                throw KeyValueServiceError(.unavailable, "the node is shutting down; \(step.change) may be incomplete", retryAfterSeconds: 1)
            }
            let now = clockNow()
            guard now < started + 30_000 else {
                throw KeyValueServiceError(
                    .timeout, "\(step.change) did not reach ring version \(step.ringVersion) in 30 s; the steps before it are done")
            }
            if now >= sentAt + 2_000 {
                sentAt = now
                // Repeats are idempotent (a join asked again, a leave or removal already made).
                if let commands = try? core.commitStep(step.change, ringVersion: fromVersion, now: now, wallNow: wallTime()) {
                    drive { _, _, _ in commands }
                }
            }
        }
    }

    static func serviceError(_ problem: ClusterPlan.Problem) -> KeyValueServiceError {
        switch problem {
        case .unknownMember(let node): KeyValueServiceError.nodeNotFound(node.description)
        case .stale: KeyValueServiceError(.planStale, problem.description)
        case .noRing, .notValid, .duplicate, .noOwnerLeft, .nothingToDo, .malformedToken:
            KeyValueServiceError.membershipConflict(problem.description)
        }
    }
}

/// A plan as `POST /v1/cluster/plan` answers it (docs/api.md): sized with the keys and bytes of
/// the partitions this node holds; a partition it does not hold counts as the mean of those it
/// does (`estimated_partitions` says how many), since keys hash evenly over partitions. A node
/// *receives* each partition it gains once (the data) but from every old replica (`sent`
/// counts each of those transfers; duplicates merge), which is what each sender *sends*.
struct PlanReport {
    let plan: ClusterPlan
    let members: [NodeID: Membership.Member]
    let stats: [Int: (keys: Int, liveBytes: Int)]
    /// This node's handoff send rate (bytes/s), assumed for every sender.
    let sendRate: Int

    struct Tally {
        var partitions = 0
        var keys = 0
        var bytes = 0

        mutating func add(_ size: (keys: Int, bytes: Int)) {
            partitions += 1
            keys += size.keys
            bytes += size.bytes
        }

        mutating func add(_ other: Tally) {
            partitions += other.partitions
            keys += other.keys
            bytes += other.bytes
        }

        var json: JSONValue {
            .object(["partitions": .integer(Int64(partitions)), "keys": .integer(Int64(keys)), "bytes": .integer(Int64(bytes))])
        }
    }

    func size(of partition: Int) -> (keys: Int, bytes: Int) {
        if let held = stats[partition] { return (held.keys, held.liveBytes) }
        guard !stats.isEmpty else { return (0, 0) }
        let keys = stats.values.reduce(0) { $0 + $1.keys }
        let bytes = stats.values.reduce(0) { $0 + $1.liveBytes }
        return (keys / stats.count, bytes / stats.count)
    }

    func name(_ node: NodeID) -> JSONValue { .string(node.description) }

    var json: JSONValue {
        var receives: [NodeID: Tally] = [:]
        var sends: [NodeID: Tally] = [:]
        var total = Tally()
        var sent = Tally()
        var estimated = Set<Int>()
        var steps: [JSONValue] = []
        for step in plan.steps {
            var stepTotal = Tally()
            var stepSent = Tally()
            let sources = Dictionary(grouping: step.transfers) { ClusterPlan.Copy(partition: $0.partition, target: $0.target) }
            let copies: [JSONValue] = step.copies.map { copy in
                let size = size(of: copy.partition)
                if stats[copy.partition] == nil { estimated.insert(copy.partition) }
                receives[copy.target, default: Tally()].add(size)
                stepTotal.add(size)
                let from: [NodeID] = (sources[copy] ?? []).map { $0.source }
                for source in from {
                    sends[source, default: Tally()].add(size)
                    stepSent.add(size)
                }
                return .object([
                    "partition": .integer(Int64(copy.partition)), "to": name(copy.target), "from": .array(from.map(name)),
                    "keys": .integer(Int64(size.keys)), "bytes": .integer(Int64(size.bytes)),
                ])
            }
            total.add(stepTotal)
            sent.add(stepSent)
            steps.append(.object([
                "change": .string(step.change.action), "node": name(step.change.node),
                "address": members[step.change.node].map { .string($0.address) } ?? .null,
                "ring_version": .integer(Int64(clamping: step.ringVersion)),
                "owner_changes": .integer(Int64(step.ownerChanges)),
                "transfers": .array(copies), "moves": stepTotal.json, "sent": stepSent.json,
            ]))
        }
        let nodes: [JSONValue] = plan.balance.map { entry in
            .object([
                "node": name(entry.node), "address": members[entry.node].map { .string($0.address) } ?? .null,
                "status": members[entry.node].map { .string($0.status.description) } ?? .null,
                "partitions_before": .integer(Int64(entry.before)), "partitions_after": .integer(Int64(entry.after)),
                "receives": (receives[entry.node] ?? Tally()).json, "sends": (sends[entry.node] ?? Tally()).json,
            ])
        }
        // Every sender works through its own share at the send rate, all at once.
        let slowest = sends.values.map(\.bytes).max() ?? 0
        let check = plan.replicaCheck
        return .object([
            "plan": .string(plan.token),
            "ring_version": .integer(Int64(clamping: plan.ringVersion)),
            "replicas": .integer(Int64(plan.replicas)),
            "steps": .array(steps),
            "nodes": .array(nodes),
            "moves": total.json,
            "sent": sent.json,
            "estimated_partitions": .integer(Int64(estimated.count)),
            "send_bytes_per_second": .integer(Int64(sendRate)),
            "eta_seconds": sendRate > 0 ? .integer(Int64((slowest + sendRate - 1) / sendRate)) : .null,
            "replicas_distinct": .bool(check.distinct),
            "repeated_windows": .integer(Int64(check.repeatedWindows)),
        ])
    }
}
