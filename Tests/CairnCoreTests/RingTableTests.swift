import Testing
@testable import CairnCore

@Suite struct RingTableTests {
    /// S = 1...12 members on Q partitions with N = 3: balance, spacing where achievable, and the
    /// same ring whatever order the members arrive in.
    @Test(arguments: [8, 64, 256])
    func canonicalRingsAreBalancedSpacedAndOrderIndependent(partitionCount: Int) {
        var random = SplitMix64(seed: UInt64(partitionCount))
        for memberCount in 1...12 {
            let members = testNodes(memberCount)
            let ring = Ring(members: members, partitionCount: partitionCount, targetReplicas: 3)
            #expect(ring.owners.count == partitionCount)
            #expect(isBalanced(ring), "Q=\(partitionCount) S=\(memberCount) counts \(ring.ownershipCounts)")

            let violations = ring.windowViolations()
            if memberCount >= 4 {
                #expect(violations.isEmpty, "Q=\(partitionCount) S=\(memberCount) windows \(violations)")
                #expect(Claim.spacingIsAchievable(memberCount: memberCount, partitionCount: partitionCount, targetReplicas: 3))
            } else if memberCount == 3 {
                // S == N: spacing needs 3 | Q, never true for a power of two. Each member slot the
                // walk skips costs exactly two windows; nothing better exists.
                let skips = (partitionCount + 2) / 3 * 3 - partitionCount
                #expect(!Claim.spacingIsAchievable(memberCount: 3, partitionCount: partitionCount, targetReplicas: 3))
                #expect(!violations.isEmpty && violations.count <= 2 * skips, "Q=\(partitionCount) windows \(violations)")
            }

            for _ in 0..<3 {
                let shuffled = Ring(members: members.shuffled(using: &random), partitionCount: partitionCount, targetReplicas: 3)
                #expect(shuffled == ring, "Q=\(partitionCount) S=\(memberCount): order changed the ring")
                let reclaimed = ring.claiming(members: members.shuffled(using: &random))
                #expect(reclaimed == ring, "Q=\(partitionCount) S=\(memberCount): re-claiming the same members moved partitions")
            }
        }
    }

    /// Spacing also holds for other replica counts once S > N (Q large enough for the walk).
    @Test(arguments: [2, 4, 5])
    func otherReplicaCountsAreSpacedWhenMembersExceedThem(targetReplicas: Int) {
        for partitionCount in [64, 256] {
            for memberCount in (targetReplicas + 1)...12 {
                let ring = Ring(members: testNodes(memberCount), partitionCount: partitionCount, targetReplicas: targetReplicas)
                #expect(isBalanced(ring))
                #expect(ring.windowViolations().isEmpty, "N=\(targetReplicas) Q=\(partitionCount) S=\(memberCount)")
            }
        }
    }

    @Test func partitionIsTheHashsTopBits() {
        let ring = Ring(members: testNodes(3), partitionCount: 64)
        #expect(ring.partitionBits == 6)
        #expect(ring.partition(for: KeyHash(0)) == 0)
        #expect(ring.partition(for: KeyHash(UInt64.max)) == 63)
        #expect(ring.partition(for: KeyHash(1 << 63)) == 32)
        #expect(ring.partition(for: KeyHash((1 << 58) - 1)) == 0)
        #expect(ring.partition(for: KeyHash(1 << 58)) == 1)
        // Low bits never matter.
        #expect(ring.partition(for: KeyHash(0x0000_0000_FFFF_FFFF)) == 0)
        let single = Ring(members: testNodes(1), partitionCount: 1)
        #expect(single.partition(for: KeyHash(UInt64.max)) == 0)
    }

    @Test func nodeIDRoundTripsThroughBytesAndHexAndOrdersNumerically() throws {
        let id = NodeID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        #expect(id.description == "0123456789abcdeffedcba9876543210")
        #expect(NodeID(hex: id.description) == id)
        #expect(NodeID(bytes: id.bytes) == id)
        #expect(id.bytes.first == 0x01 && id.bytes.last == 0x10)
        #expect(NodeID(hex: "xyz") == nil)
        #expect(NodeID(bytes: [1, 2, 3]) == nil)
        #expect(NodeID(high: 1, low: 0) > NodeID(high: 0, low: .max))
        let ids = testNodes(20)
        #expect(ids.sorted() == ids.sorted { $0.description < $1.description })
    }

    @Test func decodedRingsAreValidated() throws {
        let members = testNodes(4)
        let ring = Ring(members: members, partitionCount: 8)
        #expect(Ring(owners: ring.owners, members: members) == ring)
        #expect(Ring(owners: Array(ring.owners.prefix(6)), members: members) == nil)
        #expect(Ring(owners: ring.owners, members: members.dropLast()) == nil)
    }
}
