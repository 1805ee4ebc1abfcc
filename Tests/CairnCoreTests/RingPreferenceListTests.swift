import Testing
@testable import CairnCore

@Suite struct RingPreferenceListTests {
    /// Preference lists are distinct and, where spacing holds, the owners of N consecutive
    /// partitions; extended lists hold every member once, primaries first.
    @Test(arguments: [8, 64])
    func listsAreDistinctAndExtendedListsCoverEveryMemberOnce(partitionCount: Int) {
        for memberCount in 1...12 {
            let members = testNodes(memberCount)
            let ring = Ring(members: members, partitionCount: partitionCount)
            let spaced = Claim.spacingIsAchievable(memberCount: memberCount, partitionCount: partitionCount, targetReplicas: 3)
            for partition in 0..<partitionCount {
                let primaries = ring.preferenceList(for: partition, n: 3)
                #expect(primaries.count == min(3, memberCount))
                #expect(Set(primaries).count == primaries.count, "Q=\(partitionCount) S=\(memberCount) p=\(partition)")
                #expect(primaries.first == ring.owner(of: partition))
                if spaced {
                    let consecutive = (0..<3).map { ring.owner(of: (partition + $0) % partitionCount) }
                    #expect(primaries == consecutive, "Q=\(partitionCount) S=\(memberCount) p=\(partition)")
                }
                let extended = ring.extendedList(for: partition)
                #expect(extended.count == memberCount)
                #expect(Set(extended) == Set(members))
                #expect(Array(extended.prefix(primaries.count)) == primaries)
            }
        }
    }

    /// The fallbacks come in ring order: the first one is the next distinct owner clockwise.
    @Test func fallbacksFollowRingOrder() {
        let ring = Ring(members: testNodes(6), partitionCount: 64)
        for partition in 0..<64 {
            let extended = ring.extendedList(for: partition)
            var walk: [NodeID] = []
            for offset in 0..<64 where !walk.contains(ring.owner(of: (partition + offset) % 64)) {
                walk.append(ring.owner(of: (partition + offset) % 64))
            }
            #expect(extended == walk)
        }
    }

    /// With more members than partitions, members owning nothing still appear, after the owners.
    @Test func membersOwningNothingAreFallbacksToo() {
        let members = testNodes(12)
        let ring = Ring(members: members, partitionCount: 8)
        let owning = Set(ring.owners)
        #expect(owning.count == 8)
        let extended = ring.extendedList(for: 5)
        #expect(Set(extended) == Set(members))
        #expect(Set(extended.prefix(8)) == owning)
    }

    /// 100k keys hashed with xxh3 fill the 64 partitions evenly (chi-square, 63 degrees of
    /// freedom: mean 63, standard deviation about 11; the bound is six deviations), and each
    /// node's share of keys follows its share of partitions.
    @Test func xxh3KeysSpreadEvenlyOverPartitionsAndNodes() {
        let members = testNodes(5)
        let ring = Ring(members: members, partitionCount: 64)
        let keyCount = 100_000
        var perPartition = [Int](repeating: 0, count: 64)
        var perNode = [NodeID: Int]()
        for index in 0..<keyCount {
            let hash = xxh3(Array("user:\(index)".utf8))
            perPartition[ring.partition(for: hash)] += 1
            perNode[ring.preferenceList(for: hash, n: 1)[0], default: 0] += 1
        }
        let expected = Double(keyCount) / 64
        let chiSquare = perPartition.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chiSquare < 130, "chi-square \(chiSquare) over \(perPartition)")
        for (member, count) in zip(ring.members, ring.ownershipCounts) {
            let share = Double(perNode[member] ?? 0) / Double(keyCount)
            let partitionShare = Double(count) / 64
            #expect(abs(share - partitionShare) < 0.02, "node \(member) has \(share) of keys, \(partitionShare) of partitions")
        }
    }

    /// Replica changes name exactly the partitions whose preference list gains the newcomer,
    /// and each gain is matched by a loss.
    @Test func replicaChangesFollowPreferenceLists() {
        let nodes = testNodes(7)
        let before = Ring(members: nodes.prefix(6), partitionCount: 64)
        let after = before.claiming(members: nodes)
        let changes = before.diff(to: after).replicaChanges(n: 3)
        let newcomer = nodes[6]
        let expected = (0..<64).filter { after.preferenceList(for: $0, n: 3).contains(newcomer) }
        #expect(changes.map(\.partition) == expected)
        #expect(changes.allSatisfy { $0.gained == [newcomer] && $0.lost.count == 1 })
        #expect(before.diff(to: before).transfers.isEmpty && before.diff(to: before).replicaChanges(n: 3).isEmpty)
    }
}
