/// The bounds the HTTP API puts on every request, checked before the node does any work.
///
/// DESIGN.md §2: keys are 1…1024 bytes and values at most 4 MiB by default, both configurable,
/// and an over-limit request gets a clear error, never a crash (STYLE.md, "Put a limit on
/// everything"). The body limits are enforced while the body arrives: a request that declares a
/// larger `Content-Length` is refused before any of its body is read, and one without a
/// `Content-Length` is refused as soon as it passes the limit.
public struct APILimits: Hashable, Sendable {
    /// The longest key, in bytes after percent-decoding.
    public var maxKeyBytes: Int
    /// The largest value, in bytes after decoding (raw body, UTF-8 text or base64).
    public var maxValueBytes: Int
    /// The largest JSON body (PUT and CAS). A value travels inside it as a string or as base64,
    /// so the default leaves room for base64 of a maximal value plus the rest of the object.
    public var maxJSONBodyBytes: Int
    /// The largest body of a request that takes none (GET, DELETE): anything but an empty body
    /// is refused, this only decides when to stop reading it.
    public var maxIgnoredBodyBytes: Int
    /// The longest time to live a write may ask for, in seconds.
    public var maxTTLSeconds: Int64
    /// The most keys one scan page may ask for.
    public var maxScanLimit: Int
    /// The page size of a scan that names no `limit`.
    public var defaultScanLimit: Int
    /// The longest `X-Cairn-Context` header value, in characters of base64url.
    public var maxContextHeaderBytes: Int

    /// The defaults of DESIGN.md §2: 1024-byte keys, 4 MiB values.
    public init(
        maxKeyBytes: Int = 1024,
        maxValueBytes: Int = 4 << 20,
        maxJSONBodyBytes: Int? = nil,
        maxIgnoredBodyBytes: Int = 64 << 10,
        maxTTLSeconds: Int64 = 10 * 366 * 24 * 3600,
        maxScanLimit: Int = 1000,
        defaultScanLimit: Int = 100,
        maxContextHeaderBytes: Int? = nil
    ) {
        precondition(maxKeyBytes >= 1, "maxKeyBytes must be at least 1, got \(maxKeyBytes)")
        precondition(maxValueBytes >= 0, "maxValueBytes must not be negative, got \(maxValueBytes)")
        precondition(maxTTLSeconds >= 1, "maxTTLSeconds must be at least 1, got \(maxTTLSeconds)")
        precondition(
            maxScanLimit >= 1 && (1...maxScanLimit).contains(defaultScanLimit),
            "scan limits must satisfy 1 <= default (\(defaultScanLimit)) <= max (\(maxScanLimit))")
        self.maxKeyBytes = maxKeyBytes
        self.maxValueBytes = maxValueBytes
        self.maxJSONBodyBytes = maxJSONBodyBytes ?? Self.base64Length(of: maxValueBytes) + (64 << 10)
        self.maxIgnoredBodyBytes = maxIgnoredBodyBytes
        self.maxTTLSeconds = maxTTLSeconds
        self.maxScanLimit = maxScanLimit
        self.defaultScanLimit = defaultScanLimit
        self.maxContextHeaderBytes =
            maxContextHeaderBytes ?? Self.base64Length(of: 64 << 10)
    }

    /// The characters of padded base64 for `count` bytes.
    static func base64Length(of count: Int) -> Int {
        (count + 2) / 3 * 4
    }
}
