/// The error of the versioning layer: a refused client write or an encoding that does not decode.
///
/// Operating errors, never traps (STYLE.md, "Errors and limits"): a DVVSet or a causal context
/// arrives from disk, from peers and from clients, so any byte string must decode to a value or
/// to one of these, with the offset at which decoding stopped.
public struct VersionError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// A client write would leave more siblings than the limit allows.
        case siblingLimitExceeded
        /// A client write would need a counter above `Dot.maxCounter`.
        case counterExhausted
        /// The input ends before the encoding does.
        case truncated
        /// The format version byte is not one this build reads.
        case unsupportedVersion
        /// The input is an encoding of another kind (a context where an object was expected, …).
        case wrongKind
        /// The input, or a count or length inside it, is larger than the decoding limits allow.
        case tooLarge
        /// The bytes break the format: bad flags, unsorted or repeated actors, an impossible
        /// counter, a non-minimal number, bytes after the end.
        case malformed
        /// A write that is not a compare-and-set, to a key that compare-and-set manages: its
        /// object holds a dot of `ReplicaActor.cas` (docs/cas.md, "Fencing").
        case casManaged
    }

    public var code: Code
    public var message: String
    /// The byte offset in the input where decoding stopped, when decoding.
    public var offset: Int?
    /// The limit that was exceeded, when one was.
    public var limit: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil, limit: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.limit = limit
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let offset { text += " @\(offset)" }
        if let limit { text += " (limit \(limit))" }
        return text
    }
}
