import CairnCore

/// The simulator's membership proofs (``Membership/Signatures``): a keyed hash instead of
/// Ed25519, so runs stay fast and replay exactly. A node's "public key" is its identity followed
/// by 16 zero bytes (so the key derives the identity, as an Ed25519 key's digest does in
/// `cairnd`); a signature is 64 bytes of SplitMix64 output seeded by a hash of the simulation's
/// secret, the key and the message. Only code that knows the secret can sign: the simulated
/// nodes do, a forger in a test does not.
public struct SimSignatures: Membership.Signatures {
    public let node: NodeID
    let secret: UInt64

    public init(node: NodeID, secret: UInt64 = 0x5EC2_E7C0_FFEE_0001) {
        self.node = node
        self.secret = secret
    }

    static func key(of node: NodeID) -> [UInt8] { node.bytes + [UInt8](repeating: 0, count: Membership.Proof.keyBytes - 16) }

    func signature(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ secret
        for byte in key + message { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var random = SplitMix64(seed: hash)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Membership.Proof.signatureBytes)
        while bytes.count < Membership.Proof.signatureBytes {
            withUnsafeBytes(of: random.next().littleEndian) { bytes += $0 }
        }
        return bytes
    }

    public func sign(_ message: [UInt8]) -> Membership.Proof {
        let key = Self.key(of: node)
        return Membership.Proof(key: key, signature: signature(key: key, message: message))
    }

    public func signer(of proof: Membership.Proof, over message: [UInt8]) -> NodeID? {
        guard proof.key[16...].allSatisfy({ $0 == 0 }), proof.signature == signature(key: proof.key, message: message) else { return nil }
        return NodeID(bytes: proof.key[0..<16])
    }
}
