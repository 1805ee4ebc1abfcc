import Testing
@testable import CairnCore

/// Staged joins and membership plans: a staged joiner waits with the ring; a plan of joins, a
/// leave and a removal predicts every ring the cluster then goes through when its steps are
/// carried out one at a time over gossip; tokens name exactly one plan.
@Suite struct ClusterPlanTests {
    let ids = testNodes(7, seed: 77)

    /// Four converged members a…d (Q = 64, N = 3) and two staged joiners e, f.
    func cluster(seed: UInt64) -> MembershipSim {
        var sim = MembershipSim(seed: seed, dropPercent: 10)
        sim.add(.bootstrap(ids[0], address: "n0:1", clusterName: "c", partitionCount: 64, targetReplicas: 3))
        for index in 1..<4 { sim.add(Membership.Instance(joining: ids[index], address: "n\(index):1", clusterName: "c", seeds: ["n0:1"])) }
        #expect(settle(&sim), "the first four converge")
        var staged = Membership.Settings()
        staged.stagedJoin = true
        for index in 4..<6 {
            sim.add(Membership.Instance(joining: ids[index], address: "n\(index):1", clusterName: "c", seeds: ["n0:1"], settings: staged))
        }
        for _ in 0..<30 { sim.round() }
        return sim
    }

    func settle(_ sim: inout MembershipSim, rounds: Int = 200) -> Bool {
        for _ in 0..<rounds {
            sim.round()
            if sim.converged { return true }
        }
        return false
    }

    @Test func aStagedJoinerWaitsWithTheRingUntilCommitted() throws {
        var sim = cluster(seed: 5)
        for index in 4..<6 {
            let joiner = try #require(sim.nodes["n\(index):1"])
            #expect(joiner.myself.status == .joining, "a staged joiner stays joining")
            #expect(joiner.ring?.ring.members.count == 4, "and holds the cluster's ring")
        }
        #expect(sim.nodes["n0:1"]!.ring?.ring.members.count == 4, "nothing moved")
        #expect(throws: Membership.Error.ringBehind(sim.nodes["n4:1"]!.ring!.version, 99)) {
            try sim.nodes["n4:1"]!.onCommit(ringVersion: 99, now: 0)
        }
        #expect(throws: Membership.Error.invalidStatus(ids[0], .valid)) { try sim.nodes["n0:1"]!.onCommit(ringVersion: 0, now: 0) }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func stepsCarriedOutOverGossipGoThroughThePlannedRings(seed: UInt64) throws {
        var sim = cluster(seed: seed)
        let state = sim.nodes["n0:1"]!.state
        let plan = try ClusterPlan(state: state, leaving: [ids[1]], removing: [ids[2]], replicas: 3)
        #expect(plan.changes == [.join(ids[4]), .join(ids[5])].sorted { $0.node < $1.node } + [.leave(ids[1]), .remove(ids[2])])
        #expect(plan.steps.map(\.ringVersion) == (1...4).map { plan.ringVersion + UInt64($0) })
        #expect(plan.finalRing.members == [ids[0], ids[3], ids[4], ids[5]].sorted())

        var fromVersion = plan.ringVersion
        for step in plan.steps {
            let address = { (node: NodeID) in "n\(ids.firstIndex(of: node)!):1" }
            switch step.change {
            case .join(let node):
                let effects = try sim.nodes[address(node)]!.onCommit(ringVersion: fromVersion, now: MonotonicTime(milliseconds: sim.now))
                sim.record(effects, at: address(node))
            case .leave(let node):
                let effects = try sim.nodes[address(node)]!.onLeave(now: MonotonicTime(milliseconds: sim.now))
                sim.record(effects, at: address(node))
            case .remove(let node):
                let effects = try sim.nodes["n0:1"]!.onRemove(node, now: MonotonicTime(milliseconds: sim.now))
                sim.record(effects, at: "n0:1")
            }
            // The committer waits for the step's ring, then lets gossip spread it.
            var rounds = 0
            while sim.nodes["n0:1"]!.ring!.version < step.ringVersion, rounds < 200 {
                sim.round()
                rounds += 1
            }
            for _ in 0..<5 { sim.round() }
            let ring = try #require(sim.nodes["n0:1"]!.ring)
            #expect(ring.version == step.ringVersion, "\(step.change)")
            #expect(ring.ring == step.ringAfter, "\(step.change): the ring the plan predicted")
            fromVersion = step.ringVersion
        }
        // The leaver and the removed node stop taking part; the rest agree on the final ring.
        for address in ["n0:1", "n3:1", "n4:1", "n5:1"] {
            #expect(sim.nodes[address]!.ring?.ring == plan.finalRing, "\(address) holds the planned final ring")
        }
        let transfers = plan.steps.flatMap(\.transfers)
        #expect(transfers.allSatisfy { $0.source != $0.target })
        // Every old replica of a gained partition sends it, but a removed node sends nothing.
        for step in plan.steps {
            for copy in step.copies {
                let sources = Set(step.transfers.filter { $0.partition == copy.partition && $0.target == copy.target }.map(\.source))
                var expected = Set(step.ringBefore.preferenceList(for: copy.partition, n: 3))
                if step.change == .remove(ids[2]) { expected.remove(ids[2]) }  // the last step
                #expect(sources == expected, "\(step.change): partition \(copy.partition)")
            }
        }
        #expect(plan.replicaCheck.distinct)
    }

    @Test func tokensNameOnePlanAndGoStale() throws {
        var sim = cluster(seed: 9)
        let state = sim.nodes["n0:1"]!.state
        let plan = try ClusterPlan(state: state, leaving: [ids[1]], removing: [], replicas: 3)
        let again = try ClusterPlan(token: plan.token, state: state, replicas: 3)
        #expect(again == plan)
        #expect(plan.token.hasPrefix("r\(plan.ringVersion).join-"))

        // Another staged joiner, or a ring that moved, makes the token stale.
        var staged = Membership.Settings()
        staged.stagedJoin = true
        sim.add(Membership.Instance(joining: ids[6], address: "n6:1", clusterName: "c", seeds: ["n0:1"], settings: staged))
        for _ in 0..<30 { sim.round() }
        #expect(throws: ClusterPlan.Problem.self) { try ClusterPlan(token: plan.token, state: sim.nodes["n0:1"]!.state, replicas: 3) }
        let effects = try sim.nodes["n1:1"]!.onLeave(now: MonotonicTime(milliseconds: sim.now))
        sim.record(effects, at: "n1:1")
        for _ in 0..<10 { sim.round() }
        let moved = sim.nodes["n0:1"]!.state
        #expect(throws: ClusterPlan.Problem.stale(planned: plan.ringVersion, now: moved.ring!.version)) {
            try ClusterPlan(token: plan.token, state: moved, replicas: 3)
        }

        for bad in ["", "r", "x1", "r1.join", "r1.join-zz", "r1.move-\(ids[0])", "r18446744073709551616", "r+1", "r1.join-\(ids[0].description.uppercased())",
                    "r1.join-+\(ids[0].description.dropFirst())", String(repeating: "r1", count: 9_000)] {
            #expect(throws: ClusterPlan.Problem.self, "\(bad.prefix(40))") { try ClusterPlan.checkToken(bad) }
        }
    }

    @Test func plansRefuseWhatMembershipWould() throws {
        let sim = cluster(seed: 3)
        let state = sim.nodes["n0:1"]!.state
        #expect(throws: ClusterPlan.Problem.notValid(ids[4], .joining)) { try ClusterPlan(state: state, leaving: [ids[4]], removing: [], replicas: 3) }
        #expect(throws: ClusterPlan.Problem.duplicate(ids[1])) { try ClusterPlan(state: state, leaving: [ids[1]], removing: [ids[1]], replicas: 3) }
        #expect(throws: ClusterPlan.Problem.unknownMember(ids[6])) { try ClusterPlan(state: state, leaving: [], removing: [ids[6]], replicas: 3) }
        #expect(throws: ClusterPlan.Problem.noOwnerLeft) {
            try ClusterPlan(state: state, leaving: [], removing: [ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]], replicas: 3)
        }
        // Removing a staged joiner takes it out of the joins and changes no ring.
        let plan = try ClusterPlan(state: state, leaving: [], removing: [ids[4]], replicas: 3)
        #expect(plan.changes.contains(.remove(ids[4])) && !plan.changes.contains(.join(ids[4])))
        let removal = try #require(plan.steps.first { $0.change == .remove(ids[4]) })
        #expect(removal.transfers.isEmpty && removal.ringBefore == removal.ringAfter)
        // Two members left of N = 3: reported.
        let shrink = try ClusterPlan(state: state, leaving: [ids[1]], removing: [ids[2], ids[3], ids[4], ids[5]], replicas: 3)
        #expect(!shrink.replicaCheck.distinct)
    }
}
