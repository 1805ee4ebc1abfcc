extension Membership {
    /// A signature over one member entry, with the public key that made it (docs/security.md,
    /// "Membership proofs").
    ///
    /// Every entry a node writes about itself (joining, valid, leaving, left, a new address)
    /// carries its own signature; a `removed` entry carries the signature of the member that took
    /// the operator's request. A node's identity is derived from its public key
    /// (``Signatures/signer(of:over:)`` returns the derived identity), so a proof names its
    /// signer without any key exchange: forging one means finding a key whose digest is a given
    /// node's 128-bit identity.
    ///
    /// `CairnCore` does no cryptography; the shell supplies ``Signatures`` (Ed25519 in `cairnd`,
    /// a keyed hash in the simulator). The sizes are Ed25519's.
    public struct Proof: Sendable, Hashable {
        public static let keyBytes = 32
        public static let signatureBytes = 64

        /// The signer's public key.
        public var key: [UInt8]
        public var signature: [UInt8]

        public init(key: [UInt8], signature: [UInt8]) {
            precondition(key.count == Self.keyBytes && signature.count == Self.signatureBytes,
                         "a proof is a \(Self.keyBytes)-byte key and a \(Self.signatureBytes)-byte signature")
            self.key = key
            self.signature = signature
        }

        /// The order that breaks ties between equal entries with different proofs (two nodes
        /// that removed one member at once), so merging stays a total order.
        static func precedes(_ a: Proof?, _ b: Proof?) -> Bool {
            switch (a, b) {
            case (nil, nil), (.some, nil): false
            case (nil, .some): true
            case (let a?, let b?): (a.key + a.signature).lexicographicallyPrecedes(b.key + b.signature)
            }
        }
    }

    /// This node's signing key and the verification of others' (injected by the shell).
    public protocol Signatures: Sendable {
        /// This node's proof over `message`; its key derives this node's identity.
        func sign(_ message: [UInt8]) -> Proof
        /// The identity derived from `proof.key` if `proof.signature` is a valid signature of
        /// `message` under that key; nil otherwise.
        func signer(of proof: Proof, over message: [UInt8]) -> NodeID?
    }

    /// Why a gossiped entry or ring was not taken.
    public enum Refusal: Sendable, Hashable, CustomStringConvertible {
        /// The entry carries no proof, or its signature does not verify.
        case unproven(Member)
        /// The entry is signed, but by a node that may not write it: only the member itself
        /// writes its entry; only a current owner (a member in the ring held) writes `removed`.
        case wrongSigner(Member, signer: NodeID)
        /// The ring leaves out a member held `valid` here, or names one held as a tombstone.
        case ring(VersionedRing, member: NodeID)

        public var description: String {
            switch self {
            case .unproven(let member): "unproven entry \(member)"
            case .wrongSigner(let member, let signer): "entry \(member) signed by \(signer)"
            case .ring(let ring, let member): "\(ring) disagrees with the entry of \(member)"
            }
        }
    }
}

extension Membership.Member {
    /// The bytes a proof signs: a domain tag, the cluster, and every field of the entry.
    public func signedMessage(clusterName: String) -> [UInt8] {
        var bytes = Array("cairn member v1".utf8)
        func append(_ text: String) {
            let utf8 = Array(text.utf8)
            appendInteger(UInt32(truncatingIfNeeded: utf8.count))
            bytes += utf8
        }
        func appendInteger(_ value: some FixedWidthInteger) {
            withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
        }
        append(clusterName)
        bytes += id.bytes
        append(address)
        bytes.append(status.rawValue)
        appendInteger(incarnation)
        return bytes
    }
}

extension Membership.Instance {
    /// This entry, signed by this node.
    func signed(_ member: Membership.Member) -> Membership.Member {
        guard let signatures else { return member }
        var member = member
        member.proof = signatures.sign(member.signedMessage(clusterName: state.clusterName))
        return member
    }

    /// Why a gossiped entry may not be merged here; nil when it may. Without ``Signatures``
    /// (core tests that build entries by hand) or under `acceptUnprovenMembership`, every entry
    /// may. `arrivingRing` is the ring of the same message, which a node that has none yet
    /// (joining) checks a removal's signer against.
    func refusal(of member: Membership.Member, arrivingRing: Membership.VersionedRing? = nil) -> Membership.Refusal? {
        guard let signatures, !settings.acceptUnprovenMembership else { return nil }
        guard let proof = member.proof, let signer = signatures.signer(of: proof, over: member.signedMessage(clusterName: state.clusterName))
        else { return .unproven(member) }
        if signer == member.id { return nil }
        // Only an operator's removal is written by another node: a member that owns partitions
        // in the ring held here (a node still joining, or one that left, removes nobody).
        if member.status == .removed, (state.ring ?? arrivingRing)?.ring.members.contains(signer) == true,
           state.members[signer].map({ !$0.status.isTombstone }) ?? (state.ring == nil) {
            return nil
        }
        return .wrongSigner(member, signer: signer)
    }

    /// An owner re-signs each removal whose signer no longer owns partitions (it left, or is
    /// leaving), one incarnation up: nodes that had not taken the removal refuse it from a
    /// signer outside their ring, so without this a node that was down, or joins later, would
    /// never learn it. Tombstone rank decides before incarnation, so the re-signed entry is still
    /// the removal; owners that re-sign at once produce one version, settled by the proofs.
    mutating func reattestRemovals() -> [Membership.Member] {
        guard let signatures, let ring = state.ring?.ring, ring.members.contains(me), myself.status == .valid else { return [] }
        var reattested: [Membership.Member] = []
        for member in state.members.values where member.status == .removed {
            if let proof = member.proof, let signer = signatures.signer(of: proof, over: member.signedMessage(clusterName: state.clusterName)),
               signer == me || ring.members.contains(signer) && state.members[signer].map({ !$0.status.isTombstone }) == true {
                continue
            }
            // Incarnations decode up to 2^62; one this high is never re-signed (it cannot travel).
            guard member.incarnation < 1 << 62 else { continue }
            var entry = member
            entry.incarnation += 1
            entry = signed(entry)
            if let winner = state.merge(entry) { reattested.append(winner) }
        }
        return reattested.sorted { $0.id < $1.id }
    }

    /// Why a gossiped ring may not replace the one held; nil when it may. A ring a member derived
    /// leaves out only members it held as not `valid`, so one that leaves out a member this
    /// node holds `valid` — or names one it holds as a tombstone — comes from a state this node
    /// has not seen (gossip brings the entries, and the ring again) or was forged. Applies once
    /// this node has a ring; a joining node takes its seed's.
    func refusal(of ring: Membership.VersionedRing) -> Membership.Refusal? {
        guard signatures != nil, !settings.acceptUnprovenMembership, state.ring != nil else { return nil }
        let members = Set(ring.ring.members)
        for member in state.members.values {
            let inRing = members.contains(member.id)
            if member.status == .valid && !inRing || member.status.isTombstone && inRing {
                return .ring(ring, member: member.id)
            }
        }
        return nil
    }
}
