import Testing
@testable import CairnCore

@Suite struct HandoffTests {
    /// For every partition and every stage of a plan: writes reach every old and new replica
    /// until the partition settles, reads go only to nodes that hold the data, and a node drops
    /// its copy only after the new replicas have it.
    func checkStages(_ plan: Handoff.Plan, order: [Handoff.Transfer]) {
        var plan = plan
        func check() {
            for partition in 0..<plan.diff.old.partitionCount {
                let old = plan.diff.old.preferenceList(for: partition, n: plan.replicas)
                let new = plan.diff.new.preferenceList(for: partition, n: plan.replicas)
                let writes = Set(plan.writeTargets(partition))
                let holders = Set(old).union(plan.completed.filter { $0.partition == partition }.map(\.target))
                #expect(Set(new).isSubset(of: writes))
                if !plan.isSettled(partition) {
                    #expect(Set(old).isSubset(of: writes), "partition \(partition): a pending write must reach the old replicas")
                    #expect(plan.readTargets(partition) == old)
                    #expect(old.allSatisfy { !plan.mayDrop(partition, on: $0) })
                }
                #expect(Set(plan.readTargets(partition)).isSubset(of: holders), "partition \(partition): read from a node without the data")
            }
        }
        check()
        for transfer in order {
            plan.complete(transfer)
            check()
        }
        #expect(plan.isComplete)
        for partition in 0..<plan.diff.old.partitionCount {
            #expect(plan.readTargets(partition) == plan.diff.new.preferenceList(for: partition, n: plan.replicas))
            for node in plan.diff.old.preferenceList(for: partition, n: plan.replicas) {
                #expect(plan.mayDrop(partition, on: node) == !plan.diff.new.preferenceList(for: partition, n: plan.replicas).contains(node))
            }
        }
    }

    @Test func aJoinFromThreeToFourNodesPlansATransferForEveryGainedReplica() {
        let nodes = testNodes(4)
        let old = Ring(members: nodes.prefix(3), partitionCount: 16)
        let new = old.claiming(members: nodes)
        let plan = Handoff.Plan(old.diff(to: new), replicas: 3)
        let gained = old.diff(to: new).replicaChanges(n: 3).reduce(0) { $0 + $1.gained.count }
        #expect(plan.transfers.count == gained && gained > 0)
        #expect(plan.transfers.allSatisfy { $0.target == nodes[3] || new.preferenceList(for: $0.partition, n: 3).contains($0.target) })
        #expect(plan.transfers.allSatisfy { old.preferenceList(for: $0.partition, n: 3).contains($0.source) })
        checkStages(plan, order: plan.transfers)
    }

    @Test(arguments: 0..<20)
    func randomJoinsAndLeavesKeepEveryStageSafe(seed: Int) {
        var random = SplitMix64.mixed(UInt64(seed))
        let pool = testNodes(8, seed: UInt64(seed) + 1)
        var members = Array(pool.prefix(3 + random.below(4)))
        let old = Ring(members: members, partitionCount: 32)
        if random.chance(50) && members.count > 3 {
            members.remove(at: random.below(members.count))
        } else {
            members.append(pool.first { !members.contains($0) }!)
        }
        let new = old.claiming(members: members)
        let plan = Handoff.Plan(old.diff(to: new), replicas: 3)
        var order = plan.transfers
        order.shuffle(using: &random)
        checkStages(plan, order: order)
    }

    /// A fake partition of `count` keys; the sender moves it in batches, with failures.
    @Test(arguments: 0..<20)
    func senderDeliversEveryKeyThrottledAndResumable(seed: Int) {
        var random = SplitMix64.mixed(UInt64(seed))
        let keys = (0..<(200 + random.below(400))).map { [UInt8]("key-\(String($0).leftPaddedCAS(6))".utf8) }
        let sizes = keys.map { _ in 50 + random.below(2_000) }
        let transfer = Handoff.Transfer(partition: 3, source: testNodes(2)[0], target: testNodes(2)[1])
        let rate = 1_000_000
        var sender = Handoff.Sender(transfer, bytesPerSecond: rate, batchBytes: 20_000, retryMilliseconds: 50)
        var received = Set<[UInt8]>()
        var persisted: [UInt8]? = nil
        var now: MonotonicTime = 0
        var pendingBatch: [[UInt8]] = []
        var effects = sender.start(now: now)
        var restarted = false
        var steps = 0
        while !effects.isEmpty, steps < 100_000 {
            steps += 1
            let effect = effects.removeFirst()
            switch effect {
            case .read(_, let after, let maxBytes):
                var start = after.map { a in keys.firstIndex { $0.lexicographicallyPrecedes(a) == false && $0 != a } ?? keys.count } ?? 0
                var bytes = 0
                pendingBatch = []
                while start < keys.count && (pendingBatch.isEmpty || bytes + sizes[start] <= maxBytes) {
                    pendingBatch.append(keys[start])
                    bytes += sizes[start]
                    start += 1
                }
                effects += sender.onBatchRead(keys: pendingBatch.count, bytes: bytes, lastKey: pendingBatch.last,
                    isLast: start == keys.count, now: now)
            case .send:
                if random.chance(20) {
                    effects += sender.onFailed(now: now)
                } else {
                    received.formUnion(pendingBatch)
                    effects += sender.onAcknowledged(now: now)
                }
            case .persistCursor(_, let cursor):
                // Never ahead of what the target acknowledged.
                #expect(keys.prefix { !cursor.lexicographicallyPrecedes($0) }.allSatisfy(received.contains))
                persisted = cursor
                if !restarted && random.chance(10) {
                    // Crash and resume from the persisted cursor.
                    restarted = true
                    sender = Handoff.Sender(transfer, resumingAfter: persisted, bytesPerSecond: rate, batchBytes: 20_000, retryMilliseconds: 50)
                    effects = sender.start(now: now)
                }
            case .schedule(.wake, let at):
                #expect(at >= now)
                now = at
                effects += sender.onTimer(.wake, now: now)
            case .completed:
                #expect(received == Set(keys), "seed \(seed): \(keys.count - received.count) keys missing")
            }
        }
        #expect(sender.isDone)
        // Throttled: moving the bytes took at least bytes / rate of virtual time (bar the first batch).
        let total = sizes.reduce(0, +)
        #expect(now.milliseconds * UInt64(rate) / 1000 + 20_000 * 2 >= UInt64(total) || restarted)
    }
}

extension String {
    fileprivate func leftPaddedCAS(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
