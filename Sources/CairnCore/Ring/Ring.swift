/// The ring: a fixed number of partitions of the 64-bit key-hash space, each owned by one member.
///
/// Cairn partitions like Riak rather than like the Dynamo paper's random tokens (DESIGN.md §2):
/// the hash space is cut into `partitionCount` (Q) equal ranges, set at cluster creation, and a
/// deterministic *claim* function (``Claim``) assigns every partition to a
/// member. Fixed partitions make handoff, anti-entropy and storage per-partition (one Bitcask
/// and one Merkle tree per partition), and make ownership a small array every node can compute
/// and compare instead of a token set to gossip.
///
/// A ring is a value. It is built either from the member list alone (`init(members:...)`, the
/// canonical layout) or from the previous ring plus the new member list
/// (`claiming(members:)`), which moves as few partitions as balance and replica spacing allow.
/// Both are pure functions of their inputs, so nodes that agree on the ring history agree on
/// the ring.
public struct Ring: Hashable, Sendable {
    /// Q, the number of partitions; a power of two, fixed for the life of the cluster.
    public let partitionCount: Int
    /// N, the replica count claim spaces owners for: any `targetReplicas` consecutive partitions
    /// are owned by distinct members whenever that is achievable (see `Claim`).
    public let targetReplicas: Int
    /// The members, sorted and without duplicates. Every member appears here even if it owns no
    /// partition (possible only when there are more members than partitions).
    public let members: [NodeID]
    /// `owners[p]` is the member that owns partition `p`.
    public let owners: [NodeID]

    /// The largest Q accepted; a ring is an array of Q identities, gossiped whole.
    public static let maximumPartitionCount = 1 << 16

    /// The canonical ring for `members`, independent of their order and of any history.
    ///
    /// Use it when a cluster is created, and as the reference every node can recompute from the
    /// member list alone. Later changes should use `claiming(members:)` to keep data in place.
    public init(members: some Sequence<NodeID>, partitionCount: Int = 64, targetReplicas: Int = 3) {
        let sorted = Ring.sortedDistinct(members)
        Ring.checkParameters(members: sorted, partitionCount: partitionCount, targetReplicas: targetReplicas)
        self.init(
            partitionCount: partitionCount,
            targetReplicas: targetReplicas,
            members: sorted,
            owners: Claim.canonical(members: sorted, partitionCount: partitionCount, targetReplicas: targetReplicas)
        )
    }

    /// Builds a ring from an explicit ownership array, for decoding a gossiped ring.
    ///
    /// Returns `nil` unless `owners` has a power-of-two length and every owner is in `members`.
    /// It does not check balance or spacing: a decoded ring is whatever its author claimed.
    public init?(owners: [NodeID], members: some Sequence<NodeID>, targetReplicas: Int = 3) {
        let sorted = Ring.sortedDistinct(members)
        let count = owners.count
        guard count > 0, count & (count - 1) == 0, count <= Ring.maximumPartitionCount,
              targetReplicas >= 1, !sorted.isEmpty
        else { return nil }
        let memberSet = Set(sorted)
        guard owners.allSatisfy(memberSet.contains) else { return nil }
        self.init(partitionCount: count, targetReplicas: targetReplicas, members: sorted, owners: owners)
    }

    private init(partitionCount: Int, targetReplicas: Int, members: [NodeID], owners: [NodeID]) {
        self.partitionCount = partitionCount
        self.targetReplicas = targetReplicas
        self.members = members
        self.owners = owners
    }

    /// The ring that follows this one when the member list becomes `members`.
    ///
    /// Partitions of departed members and the excess of over-loaded members move to under-loaded
    /// ones, choosing moves that keep replica spacing; the rest stay where they are. The result
    /// depends only on this ring and the member set (not on their order or on any call history).
    public func claiming(members: some Sequence<NodeID>) -> Ring {
        let sorted = Ring.sortedDistinct(members)
        Ring.checkParameters(members: sorted, partitionCount: partitionCount, targetReplicas: targetReplicas)
        return Ring(
            partitionCount: partitionCount,
            targetReplicas: targetReplicas,
            members: sorted,
            owners: Claim.successor(of: owners, members: sorted, targetReplicas: targetReplicas)
        )
    }

    /// log2(Q): how many top bits of a key hash select its partition.
    public var partitionBits: Int { partitionCount.trailingZeroBitCount }

    /// The partition a key hash falls in: the hash's top log2(Q) bits.
    ///
    /// Top bits, not `hash % Q`, so that partition `p` is the contiguous hash range
    /// `[p * 2^64/Q, (p+1) * 2^64/Q)` — the ring of the Dynamo paper, cut evenly, as Riak does
    /// with its SHA-1 ring. Contiguous ranges keep hash order and partition order the same (a
    /// partition's Merkle tree covers one interval), and doubling Q would split each partition
    /// into its two halves instead of scattering every key. xxHash3's top bits are as well
    /// mixed as its low bits, so nothing is lost in spread.
    public func partition(for hash: KeyHash) -> Int {
        Self.partition(for: hash, partitionCount: partitionCount)
    }

    /// The partition a key hash falls in on any ring of `partitionCount` (a power of two)
    /// partitions: what routes a key before the ring itself is at hand.
    public static func partition(for hash: KeyHash, partitionCount: Int) -> Int {
        // Smart shift: for Q = 1 the shift is 64 and the result is 0, the only partition.
        Int(truncatingIfNeeded: hash.value >> UInt64(64 - partitionCount.trailingZeroBitCount))
    }

    /// The member that owns `partition`.
    public func owner(of partition: Int) -> NodeID {
        precondition((0..<partitionCount).contains(partition), "partition \(partition) outside 0..<\(partitionCount)")
        return owners[partition]
    }

    /// The partitions `node` owns, ascending.
    public func partitions(ownedBy node: NodeID) -> [Int] {
        owners.indices.filter { owners[$0] == node }
    }

    /// How many partitions each member owns, in `members` order.
    public var ownershipCounts: [Int] {
        var counts = [NodeID: Int]()
        for owner in owners { counts[owner, default: 0] += 1 }
        return members.map { counts[$0] ?? 0 }
    }

    /// The partitions `p` whose window `p ..< p + window` (wrapping) has a repeated owner.
    ///
    /// Empty for `window == targetReplicas` whenever claim could space the owners, which is
    /// what makes a preference list the owners of N consecutive partitions.
    public func windowViolations(window: Int? = nil) -> [Int] {
        let size = min(window ?? targetReplicas, partitionCount)
        return (0..<partitionCount).filter { start in
            var seen = Set<NodeID>()
            for offset in 0..<size where !seen.insert(owners[(start + offset) % partitionCount]).inserted {
                return true
            }
            return false
        }
    }

    private static func sortedDistinct(_ members: some Sequence<NodeID>) -> [NodeID] {
        Array(Set(members)).sorted()
    }

    private static func checkParameters(members: [NodeID], partitionCount: Int, targetReplicas: Int) {
        precondition(
            partitionCount > 0 && partitionCount & (partitionCount - 1) == 0 && partitionCount <= maximumPartitionCount,
            "partition count \(partitionCount) must be a power of two in 1...\(maximumPartitionCount)"
        )
        precondition(targetReplicas >= 1, "target replicas \(targetReplicas) must be at least 1")
        precondition(!members.isEmpty, "a ring needs at least one member (Q = \(partitionCount))")
    }
}
