import CairnSim
import Testing
@testable import CairnCore

/// Membership proofs: an entry is taken only when signed by the member itself, or — for
/// `removed` — by a member of the receiver's ring; a ring only when it agrees with the entries
/// held. Forged tombstones, relayed forgeries and stale rings are refused and reported.
@Suite struct MembershipProofTests {
    let ids = testNodes(4, seed: 77)

    /// Three members a, b, c that signed everything, converged on one ring; d is a process that
    /// joined (it has a key and an entry) but owns nothing yet.
    func cluster(acceptUnproven: Bool = false) throws -> MembershipSim {
        var settings = Membership.Settings()
        settings.acceptUnprovenMembership = acceptUnproven
        var sim = MembershipSim(seed: 5, dropPercent: 0)
        sim.add(.bootstrap(ids[0], address: "a:1", clusterName: "c", partitionCount: 8, targetReplicas: 2, settings: settings,
                           signatures: SimSignatures(node: ids[0])))
        for index in 1...2 {
            sim.add(Membership.Instance(joining: ids[index], address: "\(["a", "b", "c"][index]):1", clusterName: "c", seeds: ["a:1"],
                                        settings: settings, signatures: SimSignatures(node: ids[index])))
        }
        _ = try #require(MembershipConvergenceTests.converge(&sim))
        return sim
    }

    func envelope(_ from: NodeID) -> Membership.Envelope { Membership.Envelope(clusterName: "c", from: from, fromAddress: "x:1") }

    func signed(_ member: Membership.Member, by node: NodeID) -> Membership.Member {
        var member = member
        member.proof = SimSignatures(node: node).sign(member.signedMessage(clusterName: "c"))
        return member
    }

    func refusals(_ effects: [Membership.Effect]) -> [Membership.Refusal] {
        effects.compactMap { if case .refused(let refusal, _) = $0 { refusal } else { nil } }
    }

    @Test func forgedTombstonesForALiveMemberAreRefused() throws {
        var sim = try cluster()
        var a = sim.nodes["a:1"]!
        let before = a.state
        let c = try #require(before.members[ids[2]])
        var removed = c
        removed.status = .removed
        var left = c
        left.status = .left
        left.incarnation += 1
        var tampered = signed(left, by: ids[2])
        tampered.incarnation += 1  // a true signature over other fields
        var stolen = signed(left, by: ids[2])
        stolen.proof = Membership.Proof(key: stolen.proof!.key, signature: [UInt8](repeating: 7, count: 64))
        let forgeries: [(Membership.Member, String)] = [
            (removed, "no proof"),
            (signed(removed, by: ids[3]), "removal signed by a node that is not a member"),
            (signed(left, by: ids[1]), "another member's signature on c's departure"),
            (tampered, "c's signature over another incarnation"),
            (stolen, "c's key with a made-up signature"),
        ]
        for (forgery, what) in forgeries {
            // Relayed by a member (b), as gossip relays every entry.
            let effects = a.onMessage(.update(envelope(ids[1]), members: [forgery], ring: nil), now: 10)
            #expect(refusals(effects).count == 1, "\(what): \(effects)")
            #expect(a.state == before, "\(what): state unchanged")
        }
        // A joiner (d) is known but owns nothing: its removals are not taken either.
        let d = signed(Membership.Member(id: ids[3], address: "d:1", status: .joining, incarnation: 1), by: ids[3])
        #expect(refusals(a.onMessage(.update(envelope(ids[3]), members: [d], ring: nil), now: 11)).isEmpty)
        let byJoiner = a.onMessage(.update(envelope(ids[3]), members: [signed(removed, by: ids[3])], ring: nil), now: 12)
        #expect(refusals(byJoiner) == [.wrongSigner(signed(removed, by: ids[3]), signer: ids[3])])
        #expect(a.state.members[ids[2]]?.status == .valid)
        sim.nodes["a:1"] = a
    }

    @Test func trueEntriesRelayedByOthersAreTaken() throws {
        var sim = try cluster()
        var a = sim.nodes["a:1"]!
        let c = try #require(a.state.members[ids[2]])
        // c's own leave, relayed by b.
        var leaving = c
        leaving.status = .leaving
        leaving.incarnation += 1
        let effects = a.onMessage(.update(envelope(ids[1]), members: [signed(leaving, by: ids[2])], ring: nil), now: 10)
        #expect(refusals(effects).isEmpty, "\(effects)")
        #expect(a.state.members[ids[2]]?.status == .leaving)
        // b's removal of c, relayed by c itself: b is in a's ring.
        var removed = leaving
        removed.status = .removed
        let removal = a.onMessage(.update(envelope(ids[2]), members: [signed(removed, by: ids[1])], ring: nil), now: 20)
        #expect(refusals(removal).isEmpty, "\(removal)")
        #expect(a.state.members[ids[2]]?.status == .removed)
        #expect(a.ring?.ring.members == [ids[0], ids[1]].sorted(), "a derived the ring without c")
        sim.nodes["a:1"] = a
    }

    @Test func anOperatorRemovalSpreadsAndOnlyOwnersMayMakeOne() throws {
        var sim = try cluster()
        // A node that is not in its own ring (here: leaving) may not remove: others would refuse it.
        var leaver = sim.nodes["b:1"]!
        _ = try leaver.onLeave(now: MonotonicTime(milliseconds: sim.now))
        #expect(leaver.ring?.ring.members.contains(ids[1]) == false)
        #expect(throws: Membership.Error.invalidStatus(ids[1], .leaving)) { try leaver.onRemove(ids[2], now: MonotonicTime(milliseconds: sim.now)) }
        // Through a member of the ring: signed, taken everywhere.
        sim.record(try sim.nodes["b:1"]!.onRemove(ids[2], now: MonotonicTime(milliseconds: sim.now)), at: "b:1")
        _ = try #require(MembershipConvergenceTests.converge(&sim))
        for address in sim.addresses {
            let entry = try #require(sim.nodes[address]!.state.members[ids[2]])
            #expect(entry.status == .removed && entry.proof != nil, "\(address): \(entry)")
        }
    }

    @Test func aRingThatDropsAValidMemberWaitsForTheEntriesThatExplainIt() throws {
        var sim = try cluster()
        var a = sim.nodes["a:1"]!
        let held = try #require(a.ring)
        // A ring without c at the next version, as a node that saw c leave would derive: refused
        // while a holds c valid; taken once c's `leaving` entry arrives with it.
        let next = Membership.VersionedRing(version: held.version + 1, ring: held.ring.claiming(members: [ids[0], ids[1]].sorted()))
        let early = a.onMessage(.update(envelope(ids[1]), members: [], ring: next), now: 10)
        #expect(refusals(early) == [.ring(next, member: ids[2])])
        #expect(a.ring == held)
        var leaving = try #require(a.state.members[ids[2]])
        leaving.status = .leaving
        leaving.incarnation += 1
        let explained = a.onMessage(.update(envelope(ids[1]), members: [signed(leaving, by: ids[2])], ring: next), now: 20)
        #expect(refusals(explained).isEmpty, "\(explained)")
        #expect(a.ring == next)
        sim.nodes["a:1"] = a
    }

    /// What the checks prevent: with them off, one forged, unsigned removal relayed by anyone
    /// takes a live member out of the ring.
    @Test func withoutTheChecksAForgedRemovalTakesALiveMemberOut() throws {
        let sim = try cluster(acceptUnproven: true)
        var a = sim.nodes["a:1"]!
        var removed = try #require(a.state.members[ids[2]])
        removed.status = .removed
        removed.proof = nil
        _ = a.onMessage(.update(envelope(ids[3]), members: [removed], ring: nil), now: 10)
        #expect(a.state.members[ids[2]]?.status == .removed)
        #expect(a.ring?.ring.members.contains(ids[2]) == false)
    }

    /// A removal outlives its signer: when the node that signed it leaves, the owners re-sign
    /// it, so a node that joins afterwards, and one restarted from a state older than the
    /// removal, still learn it.
    @Test func aRemovalSpreadsAfterItsSignerLeft() throws {
        let ids = testNodes(5, seed: 91)
        let addresses = ["a:1", "b:1", "c:1", "d:1", "e:1"]
        var sim = MembershipSim(seed: 8, dropPercent: 0)
        sim.add(.bootstrap(ids[0], address: addresses[0], clusterName: "c", partitionCount: 8, targetReplicas: 2,
                           signatures: SimSignatures(node: ids[0])))
        for index in 1...3 {
            sim.add(Membership.Instance(joining: ids[index], address: addresses[index], clusterName: "c", seeds: ["a:1"],
                                        signatures: SimSignatures(node: ids[index])))
        }
        _ = try #require(MembershipConvergenceTests.converge(&sim))
        let stale = sim.nodes["c:1"]!.state
        // d is removed through a; then a leaves.
        sim.record(try sim.nodes["a:1"]!.onRemove(ids[3], now: MonotonicTime(milliseconds: sim.now)), at: "a:1")
        _ = try #require(MembershipConvergenceTests.converge(&sim))
        sim.record(try sim.nodes["a:1"]!.onLeave(now: MonotonicTime(milliseconds: sim.now)), at: "a:1")
        for _ in 0..<3 { sim.round() }
        sim.record(try sim.nodes["a:1"]!.onHandoffComplete(now: MonotonicTime(milliseconds: sim.now)), at: "a:1")
        _ = try #require(MembershipConvergenceTests.converge(&sim))
        // e joins through b; c restarts from the state it had before the removal.
        sim.add(Membership.Instance(joining: ids[4], address: addresses[4], clusterName: "c", seeds: ["b:1"],
                                    signatures: SimSignatures(node: ids[4])))
        sim.nodes["c:1"] = Membership.Instance(restoring: stale, me: ids[2], address: "c:1", seeds: ["b:1"],
                                               signatures: SimSignatures(node: ids[2]))
        _ = try #require(MembershipConvergenceTests.converge(&sim), "the cluster converges with the removal")
        for address in ["b:1", "c:1", "e:1"] {
            let entry = try #require(sim.nodes[address]!.state.members[ids[3]])
            #expect(entry.status == .removed, "\(address) learnt the removal: \(entry)")
            let signer = entry.proof.flatMap { SimSignatures(node: ids[1]).signer(of: $0, over: entry.signedMessage(clusterName: "c")) }
            #expect(signer != nil && signer != ids[0], "\(address): re-signed by an owner, not the node that left")
            #expect(sim.nodes[address]!.ring?.ring.members == [ids[1], ids[2], ids[4]].sorted(), "\(address)")
        }
    }

    @Test func mergeWithDifferentProofsIsCommutative() throws {
        let c = Membership.Member(id: ids[2], address: "c:1", status: .removed, incarnation: 4)
        let byA = signed(c, by: ids[0])
        let byB = signed(c, by: ids[1])
        #expect(byA != byB)
        #expect(Membership.Member.merged(byA, byB) == Membership.Member.merged(byB, byA))
        #expect(Membership.Member.merged(byA, c) == Membership.Member.merged(c, byA))
        #expect(Membership.Member.merged(byA, c) == byA, "a proven entry beats an equal unproven one")
    }
}
