import CairnSim
import Testing
@testable import CairnCore

/// Whole clusters of 5–9 instances gossiping in random order with lost messages converge on the
/// same member list and ring history, through joins, a leave and an operator's removal.
@Suite struct MembershipConvergenceTests {
    static let maxRounds = 40

    static func address(_ index: Int) -> String { "10.0.0.\(index + 1):7000" }

    /// Runs rounds until converged; returns how many it took, or nil past the bound.
    static func converge(_ sim: inout MembershipSim) -> Int? {
        for round in 1...maxRounds {
            sim.round()
            if sim.converged { return round }
        }
        return nil
    }

    /// `signed`: every entry carries its writer's proof and every node checks them (as `cairnd`
    /// does), so a check that refused a true entry or ring for good would show as no convergence.
    @Test(arguments: Array(UInt64(1)...12), [false, true]) func joinsLeaveAndRemoveConverge(seed: UInt64, signed: Bool) throws {
        var sim = MembershipSim(seed: seed, dropPercent: 20)
        let size = 5 + sim.below(5)
        let ids = testNodes(size, seed: seed &* 31)
        func signatures(_ index: Int) -> (any Membership.Signatures)? { signed ? SimSignatures(node: ids[index]) : nil }
        sim.add(.bootstrap(ids[0], address: Self.address(0), clusterName: "cairn", partitionCount: 16, targetReplicas: 3,
                           signatures: signatures(0)))
        for index in 1..<size {
            // Any node already started can be the seed.
            let seed = Self.address(sim.below(index))
            sim.add(Membership.Instance(joining: ids[index], address: Self.address(index), clusterName: "cairn", seeds: [seed],
                                        signatures: signatures(index)))
        }

        let joined = try #require(Self.converge(&sim), "seed \(seed): \(size) nodes did not converge after joins")
        let state = sim.nodes[Self.address(0)]!.state
        #expect(state.owners == ids.sorted(), "seed \(seed): every node valid after \(joined) rounds")
        let ring = try #require(state.ring).ring
        #expect(ring.ownershipCounts.allSatisfy { (16 / size...(16 + size - 1) / size).contains($0) }, "seed \(seed): balanced")

        // One node leaves, another is removed by an operator on a third node, concurrently.
        let leaver = 1 + sim.below(size - 1)
        var removed = 1 + sim.below(size - 1)
        if removed == leaver { removed = removed % (size - 1) + 1 }
        sim.record(try sim.nodes[Self.address(leaver)]!.onLeave(now: MonotonicTime(milliseconds: sim.now)), at: Self.address(leaver))
        sim.record(try sim.nodes[Self.address(0)]!.onRemove(ids[removed], now: MonotonicTime(milliseconds: sim.now)), at: Self.address(0))
        for _ in 0..<3 { sim.round() }
        sim.record(try sim.nodes[Self.address(leaver)]!.onHandoffComplete(now: MonotonicTime(milliseconds: sim.now)), at: Self.address(leaver))

        let departed = try #require(Self.converge(&sim), "seed \(seed): did not converge after leave and remove")
        let final = sim.nodes[Self.address(0)]!.state
        #expect(final.members[ids[leaver]]?.status == .left, "seed \(seed)")
        #expect(final.members[ids[removed]]?.status == .removed, "seed \(seed)")
        let expectedOwners = ids.enumerated().filter { $0.offset != leaver && $0.offset != removed }.map(\.element).sorted()
        #expect(final.owners == expectedOwners, "seed \(seed) after \(departed) rounds")
        #expect(final.ring?.ring.members == expectedOwners, "seed \(seed)")
        if signed {
            #expect(final.members.values.allSatisfy { $0.proof != nil }, "seed \(seed): every entry carries its proof")
            // Only rings ahead of their entries, or removals signed by a node not yet in the
            // receiver's ring, are ever refused: never an entry's signature.
            for (address, effects) in sim.log {
                for case .refused(let refusal, _) in effects {
                    if case .unproven = refusal { Issue.record("seed \(seed) \(address) refused \(refusal)") }
                }
            }
        }
        // The removed node learnt it, and said so to its shell.
        #expect(sim.log[Self.address(removed)]!.contains(.memberChanged(final.members[ids[removed]]!)), "seed \(seed)")
        // Every node's ring history only moved forward.
        for address in sim.addresses {
            let versions = sim.log[address]!.compactMap { directive -> UInt64? in
                if case .ringChanged(let ring) = directive { return ring.version }
                return nil
            }
            #expect(versions == versions.sorted(), "seed \(seed) \(address): ring versions \(versions)")
        }
    }

    @Test func removeBeatsAConcurrentSelfUpdate() throws {
        let ids = testNodes(3, seed: 11)
        var a = Membership.Instance.bootstrap(ids[0], address: "a:1", clusterName: "c", partitionCount: 8, targetReplicas: 2)
        var sim = MembershipSim(seed: 3, dropPercent: 0)
        sim.add(a)
        sim.add(Membership.Instance(joining: ids[1], address: "b:1", clusterName: "c", seeds: ["a:1"]))
        sim.add(Membership.Instance(joining: ids[2], address: "c:1", clusterName: "c", seeds: ["a:1"]))
        _ = try #require(MembershipConvergenceTests.converge(&sim))
        a = sim.nodes["a:1"]!

        // Partitioned apart: the operator removes c on a; c meanwhile restarts on a new address,
        // bumping its incarnation twice (a newer self-update than the one a removed).
        _ = try a.onRemove(ids[2], now: MonotonicTime(milliseconds: sim.now))
        sim.nodes["a:1"] = a
        var c = sim.nodes["c:1"]!
        c = Membership.Instance(restoring: c.state, me: ids[2], address: "c:2", seeds: ["a:1"])
        c = Membership.Instance(restoring: c.state, me: ids[2], address: "c:1", seeds: ["a:1"])
        #expect(c.myself.incarnation > a.state.members[ids[2]]!.incarnation)
        #expect(c.myself.status == .valid)
        sim.nodes["c:1"] = c

        _ = try #require(MembershipConvergenceTests.converge(&sim), "removal and self-update did not converge")
        for address in sim.addresses {
            #expect(sim.nodes[address]!.state.members[ids[2]]?.status == .removed, "\(address)")
            #expect(sim.nodes[address]!.ring?.ring.members == [ids[0], ids[1]].sorted(), "\(address)")
        }
        // The removed node stops heartbeating.
        let directives = sim.nodes["c:1"]!.onTick(now: MonotonicTime(milliseconds: sim.now + 5_000), random: 1)
        #expect(!directives.contains { if case .send(_, .heartbeat) = $0 { true } else { false } })
    }
}
