extension Membership {
    /// The gossiped membership state: a state-based CRDT (join-semilattice).
    ///
    /// `members` maps each identity to its winning entry (``Member/merged(_:_:)``); `ring` is the
    /// ring register (``VersionedRing/merged(_:_:)``). `merge` is the pointwise join, so it is
    /// commutative, associative and idempotent, and every node that has seen the same updates
    /// holds the same state — the same member list and the same ring. Tombstones are never
    /// dropped (a few bytes per departed node), because forgetting one would let a stale live
    /// entry of that node come back through gossip.
    public struct State: Sendable, Hashable {
        /// The cluster this state belongs to; gossip from another cluster is refused.
        public let clusterName: String
        public private(set) var members: [NodeID: Member]
        /// `nil` only on a node that is still joining and has not heard from the cluster.
        public private(set) var ring: VersionedRing?

        public init(clusterName: String, members: [Member] = [], ring: VersionedRing? = nil) {
            self.clusterName = clusterName
            self.members = [:]
            self.ring = ring
            for member in members { merge(member) }
        }

        /// Merges one entry; returns the entry now held if it changed, `nil` if the state already
        /// had this entry or a greater one.
        @discardableResult
        public mutating func merge(_ member: Member) -> Member? {
            guard let held = members[member.id] else {
                // A bounded table: gossip cannot grow it past what a ring or a file can hold.
                guard members.count < Membership.maxMembers else { return nil }
                members[member.id] = member
                return member
            }
            let winner = Member.merged(held, member)
            guard winner != held else { return nil }
            members[member.id] = winner
            return winner
        }

        /// Merges a ring; returns it if it replaced the one held.
        @discardableResult
        public mutating func merge(_ ring: VersionedRing) -> VersionedRing? {
            guard let held = self.ring else {
                self.ring = ring
                return ring
            }
            // The partition count is fixed when a cluster is created: a ring with another one
            // is not this cluster's (or is forged) and is never adopted.
            guard ring.ring.partitionCount == held.ring.partitionCount else { return nil }
            let winner = VersionedRing.merged(held, ring)
            guard winner != held else { return nil }
            self.ring = winner
            return winner
        }

        /// The join of two states of one cluster.
        public mutating func merge(_ other: State) {
            precondition(other.clusterName == clusterName, "merging cluster \(other.clusterName) into \(clusterName)")
            for member in other.members.values { merge(member) }
            if let ring = other.ring { merge(ring) }
        }

        public func merging(_ other: State) -> State {
            var result = self
            result.merge(other)
            return result
        }

        /// Each member's version: what a gossip digest carries.
        public var digest: [NodeID: Member.Version] { members.mapValues(\.version) }

        /// The members that own partitions (status `valid`), sorted: the input to claim.
        public var owners: [NodeID] { members.values.filter { $0.status.ownsPartitions }.map(\.id).sorted() }

        /// Members that are not tombstones, sorted by identity.
        public var liveMembers: [Member] { members.values.filter { !$0.status.isTombstone }.sorted { $0.id < $1.id } }

        /// The ring that should follow the one held, if the owner set differs from its members:
        /// `claiming(owners)` at the next version. `nil` when the ring is current, when there is
        /// no ring yet, or when no member owns partitions (the ring is then kept as it is).
        public func derivedRing() -> VersionedRing? {
            guard let ring else { return nil }
            let owners = self.owners
            guard !owners.isEmpty, owners != ring.ring.members, ring.version < UInt64.max else { return nil }
            return VersionedRing(version: ring.version + 1, ring: ring.ring.claiming(members: owners))
        }
    }
}
