extension Membership {
    /// Where a member is in its life in the cluster.
    ///
    /// ```
    ///            adopts the cluster's ring          operator: leave          handoff done
    /// joining ──────────────────────────▶ valid ───────────────────▶ leaving ─────────────▶ left
    ///    │                                  │                           │
    ///    └──────────────────────────────────┴───────────────────────────┴──▶ removed (operator)
    /// ```
    ///
    /// Only `valid` members own partitions. Being down is not a status: reachability is each
    /// node's own opinion (``PhiAccrualDetector``) and never changes ownership (DESIGN.md §3).
    /// `left` and `removed` are tombstones: final, and they dominate any later update of the
    /// member, so a node that comes back with the same identity stays out (it must start over
    /// with a new identity, as a Riak node that left must be reinstalled).
    public enum Status: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Announced through a seed; has not yet adopted the cluster's ring. Owns nothing.
        case joining = 0
        /// A full member: owns partitions.
        case valid = 1
        /// Asked to leave: owns nothing in the new ring, hands its partitions off.
        case leaving = 2
        /// Left by itself after handoff. Tombstone.
        case left = 3
        /// Removed by an operator (`cairn cluster remove`). Tombstone; beats everything.
        case removed = 4

        /// Whether this status is final and dominates every live status.
        public var isTombstone: Bool { self == .left || self == .removed }

        /// Whether a member in this status owns partitions.
        public var ownsPartitions: Bool { self == .valid }

        public var description: String {
            switch self {
            case .joining: "joining"
            case .valid: "valid"
            case .leaving: "leaving"
            case .left: "left"
            case .removed: "removed"
            }
        }
    }

    /// One member's entry in the gossiped state.
    ///
    /// Only the member itself changes its live entry, bumping `incarnation` each time (as SWIM's
    /// incarnation numbers). The one exception is the operator's `remove`, which any node may
    /// write: it keeps the incarnation and sets the tombstone, which wins by status, not by
    /// incarnation (see ``Version``).
    public struct Member: Sendable, Hashable, CustomStringConvertible {
        public var id: NodeID
        /// `host:port` of the member's internode listener.
        public var address: String
        public var status: Status
        /// The member's own counter, bumped for each change it makes to its entry.
        public var incarnation: UInt64
        /// The signature of the node that wrote this entry (``Proof``): the member itself, or
        /// for `removed` the member that took the operator's request. Not part of ``version``.
        public var proof: Proof?

        public init(id: NodeID, address: String, status: Status, incarnation: UInt64, proof: Proof? = nil) {
            self.id = id
            self.address = address
            self.status = status
            self.incarnation = incarnation
            self.proof = proof
        }

        /// The entry's position in the merge order; the digest gossip exchanges.
        public var version: Version {
            Version(
                tombstone: status == .removed ? 2 : status == .left ? 1 : 0,
                incarnation: incarnation,
                status: status,
                addressFingerprint: FNV1a.hash(address),
                proofFingerprint: proof.map { FNV1a.hash(bytes: $0.key + $0.signature) } ?? 0
            )
        }

        /// The entry that wins the merge: the one with the greater version (which tells two
        /// removals of one member signed by different nodes apart by their proofs'
        /// fingerprints). Ties on version (a fingerprint collision) fall back to the address
        /// text, then to the proof's bytes, so the merge is a total order.
        public static func merged(_ a: Member, _ b: Member) -> Member {
            precondition(a.id == b.id, "merging entries of different members \(a.id) and \(b.id)")
            let (va, vb) = (a.version, b.version)
            if va != vb { return va < vb ? b : a }
            if a.address != b.address { return a.address < b.address ? b : a }
            return Proof.precedes(a.proof, b.proof) ? b : a
        }

        public var description: String { "\(id)@\(address) \(status)#\(incarnation)" }
    }
}

extension Membership.Member {
    /// The order that decides which of two entries of one member wins.
    ///
    /// Compared in this order:
    /// 1. tombstone rank: live < `left` < `removed`. An operator's removal beats every update the
    ///    removed node makes afterwards, whatever its incarnation; a departure beats a stale
    ///    live entry from before it.
    /// 2. incarnation: the member's later self-update wins.
    /// 3. status: at one incarnation, joining < valid < leaving (only reachable by a restart that
    ///    lost the counter; the member then bumps past it, see `Instance`).
    /// 4. a 64-bit FNV-1a fingerprint of the address, so that two entries that differ only in
    ///    address have different versions and the digest exchange notices them;
    /// 5. a fingerprint of the proof (0 without one): entries that differ only in who signed
    ///    them (owners re-signing one removal at once) differ in the digest too, so every node
    ///    ends with the same one.
    ///
    /// Taking the maximum of a total order is a join-semilattice: commutative, associative and
    /// idempotent, which is what lets gossip deliver entries in any order, any number of times.
    public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var tombstone: UInt8
        public var incarnation: UInt64
        public var status: Membership.Status
        public var addressFingerprint: UInt64
        public var proofFingerprint: UInt64

        public init(tombstone: UInt8, incarnation: UInt64, status: Membership.Status, addressFingerprint: UInt64, proofFingerprint: UInt64 = 0) {
            self.tombstone = tombstone
            self.incarnation = incarnation
            self.status = status
            self.addressFingerprint = addressFingerprint
            self.proofFingerprint = proofFingerprint
        }

        public static func < (a: Self, b: Self) -> Bool {
            (a.tombstone, a.incarnation, a.status.rawValue, a.addressFingerprint, a.proofFingerprint)
                < (b.tombstone, b.incarnation, b.status.rawValue, b.addressFingerprint, b.proofFingerprint)
        }

        public var description: String { "\(status)#\(incarnation)" }
    }
}

/// 64-bit FNV-1a (Fowler, Noll, Vo): a stable hash for fingerprints that every process computes
/// alike. Swift's `Hasher` is seeded per process, so it cannot be gossiped.
enum FNV1a {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    static func hash(_ text: String) -> UInt64 { hash(bytes: text.utf8) }

    static func hash(bytes: some Sequence<UInt8>) -> UInt64 {
        var hash = offsetBasis
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* prime }
        return hash
    }

    static func hash(_ nodes: [NodeID], into hash: inout UInt64) {
        for node in nodes {
            for byte in node.bytes { hash = (hash ^ UInt64(byte)) &* prime }
        }
    }
}
