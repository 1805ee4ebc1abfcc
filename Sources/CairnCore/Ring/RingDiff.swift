/// What changes between two rings of the same partition count: the input to handoff.
///
/// Two views. `transfers` lists partitions whose owner changes (the claim's own measure of
/// movement). `replicaChanges(n:)` lists, per partition, the nodes that join or leave its
/// preference list of length `n`: a node that gains a replica must receive the partition by
/// handoff before it serves reads (DESIGN.md §3, "Ring changes"), and one that loses it may drop
/// its copy only afterwards. A single owner change can alter up to `n` preference lists, since
/// each partition's owner also replicates the `n - 1` partitions before it.
public struct RingDiff: Sendable, Equatable {
    /// One partition whose owner changes.
    public struct Transfer: Sendable, Hashable {
        public var partition: Int
        public var from: NodeID
        public var to: NodeID
    }

    /// How one partition's replica set changes.
    public struct ReplicaChange: Sendable, Hashable {
        public var partition: Int
        /// In the new preference list but not the old one, in new-list order.
        public var gained: [NodeID]
        /// In the old preference list but not the new one, in old-list order.
        public var lost: [NodeID]
    }

    public let old: Ring
    public let new: Ring

    public init(from old: Ring, to new: Ring) {
        precondition(
            old.partitionCount == new.partitionCount,
            "cannot diff rings of \(old.partitionCount) and \(new.partitionCount) partitions"
        )
        self.old = old
        self.new = new
    }

    /// Partitions whose owner differs, ascending.
    public var transfers: [Transfer] {
        (0..<old.partitionCount).compactMap { partition in
            let from = old.owners[partition]
            let to = new.owners[partition]
            return from == to ? nil : Transfer(partition: partition, from: from, to: to)
        }
    }

    /// Partitions whose preference list of length `n` changes membership, ascending.
    public func replicaChanges(n: Int) -> [ReplicaChange] {
        (0..<old.partitionCount).compactMap { partition in
            let before = old.preferenceList(for: partition, n: n)
            let after = new.preferenceList(for: partition, n: n)
            let gained = after.filter { !before.contains($0) }
            let lost = before.filter { !after.contains($0) }
            return gained.isEmpty && lost.isEmpty ? nil : ReplicaChange(partition: partition, gained: gained, lost: lost)
        }
    }
}

extension Ring {
    /// The changes from this ring to `newer`.
    public func diff(to newer: Ring) -> RingDiff { RingDiff(from: self, to: newer) }
}
