@testable import CairnCore

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so a failing seed replays.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
