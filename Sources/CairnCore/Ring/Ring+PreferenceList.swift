extension Ring {
    /// The `n` replicas of `partition`: the first `n` distinct owners walking clockwise from it.
    ///
    /// When claim achieved spacing (see ``Claim/spacingIsAchievable(memberCount:partitionCount:targetReplicas:)``)
    /// and `n <= targetReplicas`, these are exactly the owners of partitions
    /// `partition ..< partition + n`, the Dynamo preference list. Skipping repeated owners keeps
    /// the list distinct where spacing cannot hold (S == N with N not dividing Q), so a key never
    /// has two replicas on one machine. With fewer than `n` members the list has every member.
    public func preferenceList(for partition: Int, n: Int) -> [NodeID] {
        precondition(n >= 1, "preference list length \(n) must be at least 1")
        return Array(extendedList(for: partition).prefix(n))
    }

    /// Every member once, in the order a coordinator should try them for `partition`.
    ///
    /// The distinct owners in ring order starting at `partition` (so the primaries of any `n`
    /// come first), then members that own no partition, in `NodeID` order. Sloppy quorum writes
    /// to the first N healthy nodes of this list; the ones past the primaries are the fallbacks
    /// (DESIGN.md §2, "Quorums"). Walking the ring, rather than sorting the rest by ID, spreads
    /// one node's fallback load over its successors as in Dynamo §4.6.
    public func extendedList(for partition: Int) -> [NodeID] {
        precondition((0..<partitionCount).contains(partition), "partition \(partition) outside 0..<\(partitionCount)")
        var seen = Set<NodeID>()
        var list: [NodeID] = []
        list.reserveCapacity(members.count)
        for offset in 0..<partitionCount where list.count < members.count {
            let owner = owners[(partition + offset) & (partitionCount - 1)]
            if seen.insert(owner).inserted { list.append(owner) }
        }
        for member in members where list.count < members.count && !seen.contains(member) {
            list.append(member)
        }
        return list
    }

    /// The preference list of the partition `hash` falls in.
    public func preferenceList(for hash: KeyHash, n: Int) -> [NodeID] {
        preferenceList(for: partition(for: hash), n: n)
    }
}
