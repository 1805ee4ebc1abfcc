import CairnCore
import Crypto
import Synchronization

/// Seals the causal contexts handed to clients, so that a context comes back only as a node
/// made it (docs/security.md, "Sealed contexts").
///
/// A context names writers and counters; trusted as the client sends it, a made-up one can name
/// thousands of writers (growing the key's object past what replicas decode) or a node's own
/// writer at a counter near 2^62 (spending its counters). A token is therefore the context's
/// canonical encoding followed by a 16-byte tag, HMAC-SHA256 under a key every node of the cluster
/// derives alike, in unpadded base64url. A token whose tag does not match is refused before the
/// context is decoded.
///
/// The key comes from the cluster secret (`--secret-file`) with HKDF; without a secret, from the
/// cluster's name, which catches corrupted and hand-made tokens but not a forger who knows the
/// name and this derivation: a cluster whose clients are not trusted sets a secret.
public struct ContextSeal: Sendable, Hashable {
    /// Bytes of the tag after the encoding (128 bits of HMAC-SHA256).
    public static let tagBytes = 16

    /// Kept as bytes: `SymmetricKey` is not `Sendable` in swift-crypto 3. Empty: `unsealed`.
    private let key: [UInt8]

    private init(unsealedKey: [UInt8]) { key = unsealedKey }

    /// No seal: tokens are the bare encoding and any decodable context is taken. Only for
    /// measuring what sealing costs (`cairnd --unsafe-mode unsealed-contexts`); it gives back
    /// every attack sealing stops.
    public static let unsealed = ContextSeal(unsealedKey: [])

    public var isSealing: Bool { !key.isEmpty }

    public init(secret: [UInt8]?, clusterName: String) {
        let material = secret ?? Array("cairn cluster name \(clusterName)".utf8)
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: material), salt: Array("cairn context seal v1".utf8),
            info: Array(clusterName.utf8), outputByteCount: 32)
        key = derived.withUnsafeBytes { Array($0) }
    }

    func tag(_ encoding: some Sequence<UInt8>) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(encoding), using: SymmetricKey(data: key)).prefix(Self.tagBytes))
    }

    /// The token of `context`: what `X-Cairn-Context`, JSON bodies and RESP answers carry.
    public func token(_ context: CausalContext) -> String {
        let encoding = context.encode()
        guard isSealing else { return Base64.encode(encoding, .url) }
        return Base64.encode(encoding + tag(encoding), .url)
    }

    /// Why a token was refused.
    public enum Refusal: Error, Hashable, Sendable {
        /// Not unpadded base64url.
        case notBase64
        /// The tag does not match: not made by a node of this cluster (or altered).
        case forged
        /// Sealed, yet not a context this node accepts (over `maxEntries` writers, say).
        case invalid(VersionError)
    }

    /// The context `token` seals, if a node of this cluster sealed it.
    public func open(_ token: some Collection<UInt8>, maxEntries: Int = DVVSet<[UInt8]>.maxWritersOnWrite) throws(Refusal) -> CausalContext {
        guard let sealed = Base64.decode(token, .url) else { throw .notBase64 }
        guard isSealing else {
            do { return try CausalContext(decoding: sealed, maxEntries: maxEntries) } catch { throw .invalid(error) }
        }
        guard sealed.count > Self.tagBytes else { throw .forged }
        let encoding = sealed.prefix(sealed.count - Self.tagBytes)
        let expected = tag(encoding)
        // Constant time: how far a guess matched must not show in the answer's timing.
        var difference: UInt8 = 0
        for (a, b) in zip(expected, sealed.suffix(Self.tagBytes)) { difference |= a ^ b }
        guard difference == 0 else { throw .forged }
        do {
            return try CausalContext(decoding: Array(encoding), maxEntries: maxEntries)
        } catch {
            throw .invalid(error)
        }
    }

    // MARK: the process's seal

    /// What a node uses when none was installed: the key of a cluster named "cairn" without a
    /// secret (in-process tests, tools).
    public static let unconfigured = ContextSeal(secret: nil, clusterName: "cairn")

    private static let installed = Mutex(ContextSeal.unconfigured)

    /// The seal of this process's node (`install`), used by the HTTP and RESP servers.
    public static var current: ContextSeal { installed.withLock { $0 } }

    /// Sets the process's seal: `cairnd` does so once at start, from its cluster and secret.
    public static func install(_ seal: ContextSeal) { installed.withLock { $0 = seal } }
}
