import Testing
@testable import CairnCore

/// Single exchanges of the protocol, step by step.
@Suite struct MembershipInstanceTests {
    let ids = testNodes(3, seed: 21)

    func sends(_ directives: [Membership.Effect]) -> [(String, Membership.Message)] {
        directives.compactMap { if case .send(let to, let message) = $0 { (to, message) } else { nil } }
    }

    @Test func joinIsThreeWayPushPullAndDerivesTheNextRing() throws {
        var a = Membership.Instance.bootstrap(ids[0], address: "a:1", clusterName: "c", partitionCount: 8, targetReplicas: 2)
        var b = Membership.Instance(joining: ids[1], address: "b:1", clusterName: "c", seeds: ["b:1", "a:1"])
        #expect(b.ring == nil)

        let tick = b.onTick(now: 0, random: 0)
        let syn = try #require(sends(tick).first)
        #expect(syn.0 == "a:1", "a joining node gossips with a seed other than itself")
        #expect(tick.last == .schedule(.tick, at: 1_000))

        let ackDirectives = a.onMessage(syn.1, now: 10)
        let ack = try #require(sends(ackDirectives).first)
        guard case .delta(_, let members, let ring, let wanted, let wantsRing) = ack.1 else { Issue.record("not a delta: \(ack.1)"); return }
        #expect(members.map(\.id) == [ids[0]])
        #expect(ring?.version == 1)
        #expect(wanted == [ids[1]])
        #expect(!wantsRing)

        let bDirectives = b.onMessage(ack.1, now: 20)
        #expect(b.myself.status == .valid, "adopting the ring makes the joiner valid")
        #expect(b.ring?.version == 2 && b.ring?.ring.members == [ids[0], ids[1]].sorted())
        #expect(bDirectives.contains(.memberChanged(b.myself)))
        #expect(bDirectives.contains(.ringChanged(b.ring!)))
        let ack2 = try #require(sends(bDirectives).first)
        guard case .update(_, let sent, _) = ack2.1 else { Issue.record("not an update: \(ack2.1)"); return }
        #expect(sent == [b.myself])

        let aDirectives = a.onMessage(ack2.1, now: 30)
        #expect(a.state == b.state, "both derived the same ring v2 from (v1, {a, b})")
        #expect(aDirectives.contains(.ringChanged(a.ring!)))

        // Converged: a digest gets no answer, so only digests travel.
        let again = a.onTick(now: 1_000, random: 0)
        let digest = try #require(sends(again).first { if case .digest = $0.1 { true } else { false } })
        #expect(sends(b.onMessage(digest.1, now: 1_000)).isEmpty)
    }

    @Test func anotherClusterIsRejected() {
        var a = Membership.Instance.bootstrap(ids[0], address: "a:1", clusterName: "c")
        let stranger = Membership.Envelope(clusterName: "other", from: ids[1], fromAddress: "x:1")
        let directives = a.onMessage(.digest(stranger, versions: [ids[1]: .init(tombstone: 0, incarnation: 1, status: .valid, addressFingerprint: 0)], ring: nil), now: 0)
        #expect(directives == [.rejected(from: "x:1", clusterName: "other")])
        #expect(a.members.count == 1)
    }

    @Test func operatorErrorsAreValues() throws {
        var a = Membership.Instance.bootstrap(ids[0], address: "a:1", clusterName: "c")
        #expect(throws: Membership.Error.lastOwner(ids[0])) { try a.onLeave(now: 0) }
        #expect(throws: Membership.Error.lastOwner(ids[0])) { try a.onRemove(ids[0], now: 0) }
        #expect(throws: Membership.Error.unknownMember(ids[2])) { try a.onRemove(ids[2], now: 0) }
        #expect(throws: Membership.Error.invalidStatus(ids[0], .valid)) { try a.onHandoffComplete(now: 0) }
    }

    @Test func restartOnANewAddressBumpsTheIncarnation() {
        let a = Membership.Instance.bootstrap(ids[0], address: "a:1", clusterName: "c")
        let restarted = Membership.Instance(restoring: a.state, me: ids[0], address: "a:2", seeds: [])
        #expect(restarted.myself.address == "a:2")
        #expect(restarted.myself.incarnation == a.myself.incarnation + 1)
        #expect(restarted.myself.status == .valid)
    }

    @Test func silentMemberIsReportedUnreachableThenRecovers() throws {
        var a = Membership.Instance.bootstrap(ids[0], address: "a:1", clusterName: "c", partitionCount: 8, targetReplicas: 2)
        let bEntry = Membership.Member(id: ids[1], address: "b:1", status: .valid, incarnation: 1)
        _ = a.onMessage(.update(.init(clusterName: "c", from: ids[1], fromAddress: "b:1"), members: [bEntry], ring: nil), now: 0)
        #expect(a.isReachable(ids[1], now: 0))
        var flips: [(UInt64, Bool)] = []
        for second in UInt64(1)...12 {
            for directive in a.onTick(now: MonotonicTime(milliseconds: second * 1_000), random: second) {
                if case .reachabilityChanged(let node, let reachable) = directive, node == ids[1] { flips.append((second, reachable)) }
            }
        }
        #expect(flips.count == 1 && flips.first?.1 == false, "\(flips)")
        #expect((4...6).contains(flips.first?.0 ?? 0), "suspected about 1 s + 3 s pause + a few deviations after monitoring began: \(flips)")
        let reply = Membership.Message.heartbeatReply(.init(clusterName: "c", from: ids[1], fromAddress: "b:1"), sequence: 9)
        #expect(a.onMessage(reply, now: 12_500) == [.reachabilityChanged(ids[1], reachable: true)])
        #expect(a.isReachable(ids[1], now: 12_500))
    }
}
