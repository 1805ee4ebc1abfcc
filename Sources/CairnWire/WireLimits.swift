import CairnCore

/// Bounds on what a node accepts from a peer, so that hostile or corrupt bytes can make it
/// neither allocate without limit nor trap.
///
/// Every count and length in a message is also checked against the bytes left in its frame
/// before anything is allocated for it, so no message can claim more memory than its frame
/// (itself bounded by `maxFrameBytes`) already occupies.
public struct WireLimits: Hashable, Sendable {
    /// The largest frame length field accepted (and sent): the largest object a replica path
    /// carries (`DVVSet.maxReplicaObjectBytes`, four times the client write's object budget)
    /// plus 1 MiB for the rest of a batch (a handoff batch reads up to 256 KiB before its last
    /// record) and the message's fields. So every object a client write may lead to, merges of
    /// concurrent writes included, replicates, hints, hands off and repairs (docs/api.md,
    /// "Limits").
    public static let defaultMaxFrameBytes = DVVSet<[UInt8]>.maxReplicaObjectBytes + (1 << 20)

    /// The largest logical clock (incarnation, ring version, ballot counter) accepted from a
    /// peer: 2^62, the bound of a version vector's counters. A clock that advances by one per
    /// event never gets there; a forged one is refused instead of trapping a later `+ 1`.
    public static let maxLogicalClock: UInt64 = 1 << 62

    /// The largest value of a frame's length field.
    public var maxFrameBytes: Int
    /// A key's bytes (DESIGN.md §2: 1...1024 by default).
    public var maxKeyBytes: Int
    /// Names, addresses and reasons in text.
    public var maxStringBytes: Int
    /// Items in a hint, handoff or segment batch.
    public var maxBatchItems: Int
    /// Members in a membership message or a ring.
    public var maxMembers: Int
    /// Indices or hashes in one Merkle request or answer.
    public var maxMerkleIndices: Int
    /// Limits handed to `DVVSet(decoding:limits:)` for every object in a message.
    public var objectLimits: DVVSetDecodingLimits

    public init(
        maxFrameBytes: Int = WireLimits.defaultMaxFrameBytes,
        maxKeyBytes: Int = 1024,
        maxStringBytes: Int = 4096,
        maxBatchItems: Int = 4096,
        maxMembers: Int = 4096,
        maxMerkleIndices: Int = 1 << 20,
        objectLimits: DVVSetDecodingLimits? = nil
    ) {
        precondition(maxFrameBytes >= Frame.headerBytesAfterLength && maxFrameBytes <= Int(UInt32.max),
                     "frame limit \(maxFrameBytes) must be in \(Frame.headerBytesAfterLength)...\(UInt32.max)")
        precondition(maxKeyBytes >= 1 && maxStringBytes >= 1 && maxBatchItems >= 1 && maxMembers >= 1 && maxMerkleIndices >= 1,
                     "wire limits must be positive: key \(maxKeyBytes) string \(maxStringBytes) batch \(maxBatchItems) members \(maxMembers) merkle \(maxMerkleIndices)")
        self.maxFrameBytes = maxFrameBytes
        self.maxKeyBytes = maxKeyBytes
        self.maxStringBytes = maxStringBytes
        self.maxBatchItems = maxBatchItems
        self.maxMembers = maxMembers
        self.maxMerkleIndices = maxMerkleIndices
        self.objectLimits = objectLimits ?? DVVSetDecodingLimits(maxEncodedBytes: maxFrameBytes)
    }
}
