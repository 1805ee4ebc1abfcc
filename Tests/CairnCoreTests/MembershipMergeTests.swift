import Testing
@testable import CairnCore

/// The membership state is a join-semilattice: checked on random states against a simple model
/// (the set of every update seen, resolved by the documented precedence), plus precedence tables.
@Suite struct MembershipMergeTests {
    typealias Member = Membership.Member
    typealias State = Membership.State

    static let nodes = testNodes(4, seed: 7)
    static let addresses = ["10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7001"]
    static let rings: [Membership.VersionedRing] = {
        var random = SplitMix64(seed: 99)
        return (0..<8).map { index in
            let members = nodes.filter { _ in random.next() % 2 == 0 }
            let ring = Ring(members: members.isEmpty ? [nodes[0]] : members, partitionCount: 8, targetReplicas: 2)
            return Membership.VersionedRing(version: UInt64(index % 3), ring: ring)
        }
    }()

    /// One gossipable update: an entry or a ring.
    enum Update: Hashable {
        case member(Member)
        case ring(Membership.VersionedRing)
    }

    static func randomUpdates(_ random: inout SplitMix64) -> [Update] {
        (0..<Int(random.next() % 7)).map { _ in
            if random.next() % 5 == 0 { return .ring(rings[Int(random.next() % UInt64(rings.count))]) }
            return .member(Member(
                id: nodes[Int(random.next() % UInt64(nodes.count))],
                address: addresses[Int(random.next() % UInt64(addresses.count))],
                status: Membership.Status.allCases[Int(random.next() % 5)],
                incarnation: random.next() % 4
            ))
        }
    }

    static func state(_ updates: [Update]) -> State {
        var state = State(clusterName: "test")
        for update in updates {
            switch update {
            case .member(let member): state.merge(member)
            case .ring(let ring): state.merge(ring)
            }
        }
        return state
    }

    /// The model: of all entries ever seen for a member, removed beats left beats live; then
    /// the higher incarnation; then the later status; then the address fingerprint and text.
    static func model(_ updates: [Update]) -> (members: [NodeID: Member], ring: Membership.VersionedRing?) {
        func beats(_ a: Member, _ b: Member) -> Bool {
            func kind(_ m: Member) -> Int { m.status == .removed ? 2 : m.status == .left ? 1 : 0 }
            if kind(a) != kind(b) { return kind(a) > kind(b) }
            if a.incarnation != b.incarnation { return a.incarnation > b.incarnation }
            if a.status != b.status { return a.status.rawValue > b.status.rawValue }
            if FNV1a.hash(a.address) != FNV1a.hash(b.address) { return FNV1a.hash(a.address) > FNV1a.hash(b.address) }
            return a.address > b.address
        }
        var members: [NodeID: Member] = [:]
        var rings: [Membership.VersionedRing] = []
        for update in updates {
            switch update {
            case .member(let m):
                if let held = members[m.id], !beats(m, held) { continue }
                members[m.id] = m
            case .ring(let r): rings.append(r)
            }
        }
        // The ring with the highest version; ties by stamp fingerprint, then owners.
        let ring = rings.max { a, b in
            if a.version != b.version { return a.version < b.version }
            if a.stamp.fingerprint != b.stamp.fingerprint { return a.stamp.fingerprint < b.stamp.fingerprint }
            return a.ring.owners.lexicographicallyPrecedes(b.ring.owners)
        }
        return (members, ring)
    }

    @Test func mergeIsCommutativeAssociativeIdempotentAndMatchesTheModel() {
        var random = SplitMix64(seed: 2024)
        for trial in 0..<2_000 {
            let (ua, ub, uc) = (Self.randomUpdates(&random), Self.randomUpdates(&random), Self.randomUpdates(&random))
            let (a, b, c) = (Self.state(ua), Self.state(ub), Self.state(uc))
            #expect(a.merging(b) == b.merging(a), "commutative, trial \(trial)")
            #expect(a.merging(b).merging(c) == a.merging(b.merging(c)), "associative, trial \(trial)")
            #expect(a.merging(a) == a, "idempotent, trial \(trial)")
            let merged = a.merging(b).merging(c)
            let model = Self.model(ua + ub + uc)
            #expect(merged.members == model.members, "model members, trial \(trial)")
            #expect(merged.ring == model.ring, "model ring, trial \(trial)")
        }
    }

    @Test func sameUpdatesInAnyOrderGiveTheSameStateAndRing() {
        var random = SplitMix64(seed: 5)
        for trial in 0..<500 {
            let updates = Self.randomUpdates(&random) + Self.randomUpdates(&random)
            let reference = Self.state(updates)
            var shuffled = updates
            shuffled.shuffle(using: &random)
            // Delivered twice, in another order: gossip may repeat anything.
            let other = Self.state(shuffled + updates.reversed())
            #expect(other == reference, "trial \(trial)")
            #expect(other.derivedRing() == reference.derivedRing(), "trial \(trial)")
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var a: (Membership.Status, UInt64, String)
        var b: (Membership.Status, UInt64, String)
        var winner: Character
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "later incarnation wins", a: (.valid, 3, "x:1"), b: (.leaving, 4, "x:1"), winner: "b"),
        Case(name: "new address at a later incarnation wins", a: (.valid, 3, "x:1"), b: (.valid, 4, "y:1"), winner: "b"),
        Case(name: "same incarnation: later status", a: (.joining, 1, "x:1"), b: (.valid, 1, "x:1"), winner: "b"),
        Case(name: "removed beats later self-update", a: (.removed, 2, "x:1"), b: (.valid, 9, "y:1"), winner: "a"),
        Case(name: "removed beats later leaving", a: (.leaving, 7, "x:1"), b: (.removed, 3, "x:1"), winner: "b"),
        Case(name: "left beats stale and later live", a: (.left, 5, "x:1"), b: (.valid, 6, "x:1"), winner: "a"),
        Case(name: "removed beats left", a: (.left, 8, "x:1"), b: (.removed, 2, "x:1"), winner: "b"),
    ]

    @Test(arguments: cases) func precedence(_ c: Case) {
        let id = Self.nodes[0]
        let a = Member(id: id, address: c.a.2, status: c.a.0, incarnation: c.a.1)
        let b = Member(id: id, address: c.b.2, status: c.b.0, incarnation: c.b.1)
        let expected = c.winner == "a" ? a : b
        #expect(Member.merged(a, b) == expected)
        #expect(Member.merged(b, a) == expected)
        #expect((a.version < b.version) == (c.winner == "b"), "the digest order agrees with the merge")
    }

    /// A ring with another partition count is not this cluster's (Q is fixed at creation): it is
    /// never adopted, whatever its version. Adopting it once trapped the node's handoff planning.
    @Test func aRingWithAnotherPartitionCountIsRefused() {
        let held = Membership.VersionedRing(version: 3, ring: Ring(members: [Self.nodes[0]], partitionCount: 8, targetReplicas: 1))
        var state = State(clusterName: "c", members: [], ring: held)
        let forged = Membership.VersionedRing(version: 99, ring: Ring(members: [Self.nodes[1]], partitionCount: 16, targetReplicas: 1))
        #expect(state.merge(forged) == nil)
        #expect(state.ring == held)
    }

    /// New entries past `Membership.maxMembers` are not taken (gossip cannot grow the table
    /// without bound); entries already held still merge.
    @Test func theMemberTableIsBounded() {
        var state = State(clusterName: "c", members: [])
        for index in 0..<UInt64(Membership.maxMembers) {
            state.merge(Member(id: NodeID(high: 1, low: index), address: "a", status: .joining, incarnation: 1))
        }
        #expect(state.members.count == Membership.maxMembers)
        #expect(state.merge(Member(id: NodeID(high: 2, low: 0), address: "a", status: .joining, incarnation: 1)) == nil)
        #expect(state.members.count == Membership.maxMembers)
        #expect(state.merge(Member(id: NodeID(high: 1, low: 0), address: "b", status: .valid, incarnation: 2)) != nil)
    }
}
