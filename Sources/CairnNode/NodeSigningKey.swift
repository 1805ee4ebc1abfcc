import CairnCore
import Crypto

/// The node's Ed25519 key, which signs its membership entries and removals it carries out
/// (``Membership/Proof``; docs/security.md, "Membership proofs"). The node's identity is the
/// first 16 bytes of the SHA-256 of the public key, so a proof names its signer: a peer checks
/// the signature and derives the identity from the key, with no key exchange.
///
/// Kept in `DATA/node-signing.key` (the 32-byte raw private key, mode 0600).
public struct NodeSigningKey: Membership.Signatures {
    /// The raw private key (swift-crypto's key type is not `Sendable`; signing, rare, rebuilds it).
    public let rawRepresentation: [UInt8]
    public let publicKey: [UInt8]

    /// A new random key.
    public init() { self.init(Curve25519.Signing.PrivateKey()) }

    init(_ privateKey: Curve25519.Signing.PrivateKey) {
        rawRepresentation = Array(privateKey.rawRepresentation)
        publicKey = Array(privateKey.publicKey.rawRepresentation)
    }

    /// The key whose raw 32-byte private key is `bytes`; nil if they are not one.
    public init?(rawRepresentation bytes: [UInt8]) {
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else { return nil }
        self.init(key)
    }

    /// The identity this key derives.
    public var nodeID: NodeID { Self.identity(ofPublicKey: publicKey) }

    public static func identity(ofPublicKey key: [UInt8]) -> NodeID {
        // 16 bytes always make an identity.
        NodeID(bytes: Array(SHA256.hash(data: key)).prefix(16))!
    }

    public func sign(_ message: [UInt8]) -> Membership.Proof {
        // The key was checked when loaded; signing it with BoringSSL cannot fail otherwise.
        guard let privateKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation),
              let signature = try? privateKey.signature(for: message)
        else { preconditionFailure("Ed25519 signing failed") }
        return Membership.Proof(key: publicKey, signature: Array(signature))
    }

    public func signer(of proof: Membership.Proof, over message: [UInt8]) -> NodeID? {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: proof.key),
              key.isValidSignature(proof.signature, for: message)
        else { return nil }
        return Self.identity(ofPublicKey: proof.key)
    }
}
