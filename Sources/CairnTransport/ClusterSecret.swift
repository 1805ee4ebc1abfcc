import CairnCore
import CairnWire
import Crypto

/// The shared secret of a cluster: a node proves it knows it with HMAC-SHA256 over the
/// handshake transcript (`Handshake.transcript`), answering the other side's fresh nonce.
///
/// Optional: a cluster without a secret still refuses other clusters and versions by name, but
/// anyone who can reach the port and knows the name is let in. With a secret, a node must also
/// prove it, and the proof cannot be replayed (it covers both nonces) or reflected (it names
/// the prover's role). swift-crypto's HMAC compares codes in constant time.
public struct ClusterSecret: Handshake.Authenticator {
    /// At least 16 bytes: a shorter secret is guessable offline from one recorded handshake.
    public static let minimumBytes = 16

    /// Kept as bytes: `SymmetricKey` is not `Sendable` in swift-crypto 3.
    private let bytes: [UInt8]

    /// - Precondition: `bytes.count >= ClusterSecret.minimumBytes` (a configuration error).
    public init(_ bytes: [UInt8]) {
        precondition(bytes.count >= Self.minimumBytes, "cluster secret of \(bytes.count) bytes, need at least \(Self.minimumBytes)")
        self.bytes = bytes
    }

    public func proof(for transcript: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: transcript, using: SymmetricKey(data: bytes)))
    }

    public func isValid(_ proof: [UInt8], for transcript: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: transcript, using: SymmetricKey(data: bytes))
    }
}
