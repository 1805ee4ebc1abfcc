@testable import CairnCore


/// Node identities that do not sort in creation order, as random 128-bit IDs would not.
func testNodes(_ count: Int, seed: UInt64 = 42) -> [NodeID] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in NodeID(high: random.next(), low: random.next()) }
}

/// Whether every member owns ⌊Q/S⌋ or ⌈Q/S⌉ partitions.
func isBalanced(_ ring: Ring) -> Bool {
    let low = ring.partitionCount / ring.members.count
    let high = (ring.partitionCount + ring.members.count - 1) / ring.members.count
    return ring.ownershipCounts.allSatisfy { (low...high).contains($0) }
}
