extension Membership {
    /// The ring as gossip carries it: a last-writer-wins register ordered by ring version.
    ///
    /// Why gossip the ring and not only the members: `Ring.claiming(members:)` depends on the
    /// previous ring, so two nodes that saw the same members arrive in different orders could
    /// compute different rings. Instead every ring has a version; a node whose owner set differs
    /// from its ring's members derives `claiming(owners)` at version + 1 and gossips it, and a
    /// merge keeps the greater ``Stamp``. Derivation is deterministic, so nodes that derive
    /// from the same (ring, owners) — the usual case of one join or leave — produce the same
    /// ring. Concurrent changes can yield two different rings of one version; the stamp's
    /// fingerprint (then the owners themselves) picks one everywhere, and whoever's owner set
    /// still differs derives again. A node may skip versions it never saw; handoff works from
    /// the diff between the ring it holds and the one it adopts.
    public struct VersionedRing: Sendable, Hashable, CustomStringConvertible {
        public var version: UInt64
        public var ring: Ring

        public init(version: UInt64, ring: Ring) {
            self.version = version
            self.ring = ring
        }

        /// What the digest carries instead of the ring.
        public var stamp: Stamp {
            var hash = FNV1a.offsetBasis
            FNV1a.hash(ring.owners, into: &hash)
            FNV1a.hash(ring.members, into: &hash)
            hash = (hash ^ UInt64(truncatingIfNeeded: ring.targetReplicas)) &* FNV1a.prime
            return Stamp(version: version, fingerprint: hash)
        }

        /// The register's merge: the greater stamp, then (on a fingerprint collision) the owners,
        /// members and replica target in lexicographic order. A total order, so a semilattice.
        public static func merged(_ a: VersionedRing, _ b: VersionedRing) -> VersionedRing {
            let (sa, sb) = (a.stamp, b.stamp)
            if sa != sb { return sa < sb ? b : a }
            if a.ring.owners != b.ring.owners { return a.ring.owners.lexicographicallyPrecedes(b.ring.owners) ? b : a }
            if a.ring.members != b.ring.members { return a.ring.members.lexicographicallyPrecedes(b.ring.members) ? b : a }
            return a.ring.targetReplicas < b.ring.targetReplicas ? b : a
        }

        public var description: String { "ring v\(version) \(ring.members.count) members Q=\(ring.partitionCount)" }
    }
}

extension Membership.VersionedRing {
    /// A ring's version and a 64-bit FNV-1a fingerprint of its owners, members and N.
    public struct Stamp: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var version: UInt64
        public var fingerprint: UInt64

        public init(version: UInt64, fingerprint: UInt64) {
            self.version = version
            self.fingerprint = fingerprint
        }

        public static func < (a: Self, b: Self) -> Bool { (a.version, a.fingerprint) < (b.version, b.fingerprint) }

        public var description: String { "v\(version)" }
    }
}
