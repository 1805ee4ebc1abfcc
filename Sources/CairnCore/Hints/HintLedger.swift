/// Bookkeeping of hinted handoff on the node that holds hints: which writes it stored for an
/// unreachable owner, when to hand them back, when to give up on them.
///
/// A write that a sloppy quorum stored on a fallback is a *hint*: it names the primary it was
/// meant for and goes back to it once it is reachable, then is deleted (DESIGN.md §2). Hints
/// are durable and bounded by age and bytes. A hint dropped to keep those bounds is not a
/// silent loss: the ledger asks for anti-entropy on the hint's partition with its owner, which
/// repairs whatever the hint carried (Riak keeps hints in a bounded handoff queue and relies on
/// AAE the same way).
///
/// A pure state machine (STYLE.md): every input is a `mutating func` that takes the time it
/// is given and returns effects for the shell to carry out, in order. The caller's duties:
/// persist a hint (`.persist`) before acknowledging the write it belongs to; send a delivery
/// (`.deliver`) and report `delivered` only after the owner has durably stored it; carry out
/// `.delete` after that. After a restart, `restore` with the persisted hints.
public struct HintLedger: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Hint bytes kept at most, over all owners; the oldest go first past this.
        public var maxBytes: Int
        /// Hints older than this are dropped (and their partitions handed to anti-entropy).
        public var maxAgeMilliseconds: UInt64
        /// Hints sent to one owner per delivery batch, and batches in flight per owner (1).
        public var batchSize: Int

        public init(maxBytes: Int = 256 << 20, maxAgeMilliseconds: UInt64 = 3 * 3_600_000, batchSize: Int = 64) {
            precondition(maxBytes > 0 && maxAgeMilliseconds > 0 && batchSize > 0, "hint limits \(maxBytes) \(maxAgeMilliseconds) \(batchSize)")
            self.maxBytes = maxBytes
            self.maxAgeMilliseconds = maxAgeMilliseconds
            self.batchSize = batchSize
        }
    }

    /// One stored hint. The value itself lives in the shell's hint store under `id`.
    public struct Hint: Sendable, Hashable {
        public var id: UInt64
        public var owner: NodeID
        public var partition: Int
        public var keyHash: KeyHash
        public var bytes: Int
        /// When the hint was stored, on this node's wall clock (ages survive restarts).
        public var storedAt: WallClockTime

        public init(id: UInt64, owner: NodeID, partition: Int, keyHash: KeyHash, bytes: Int, storedAt: WallClockTime) {
            self.id = id
            self.owner = owner
            self.partition = partition
            self.keyHash = keyHash
            self.bytes = bytes
            self.storedAt = storedAt
        }
    }

    public enum DropReason: Sendable, Equatable {
        case tooOld
        case overBytes
    }

    public enum Effect: Sendable, Equatable {
        /// Write the hint durably before acknowledging the write it carries.
        case persist(Hint)
        /// Send these hints to their owner; answer with `delivered` or `deliveryFailed`.
        case deliver(owner: NodeID, hints: [Hint])
        /// Remove the hint from durable storage.
        case delete(id: UInt64)
        /// A hint was given up: repair its partition with its owner by anti-entropy.
        case requestAntiEntropy(partition: Int, owner: NodeID, reason: DropReason)
    }

    public let limits: Limits
    /// Ids are `offset` modulo `stride`: a node running several ledgers (one per core
    /// instance, `NodeCore`'s shards) over one hint store gives each its own residue.
    public let idStride: UInt64
    public let idOffset: UInt64
    private var nextId: UInt64
    /// Pending hints per owner, oldest first.
    private var pending: [NodeID: [Hint]] = [:]
    /// Hints sent and not yet answered, per owner.
    private var inFlight: [NodeID: [Hint]] = [:]
    public private(set) var totalBytes = 0
    public private(set) var droppedCount = 0
    public private(set) var deliveredCount = 0

    public init(limits: Limits = Limits(), idStride: UInt64 = 1, idOffset: UInt64 = 0) {
        precondition(idStride >= 1 && idOffset < idStride, "hint ids \(idOffset) mod \(idStride)")
        self.limits = limits
        self.idStride = idStride
        self.idOffset = idOffset
        nextId = 0
        nextId = firstId(atLeast: 1)
    }

    /// The first id of this ledger's residue at or above `floor`.
    private func firstId(atLeast floor: UInt64) -> UInt64 {
        let remainder = floor % idStride
        return remainder <= idOffset ? floor - remainder + idOffset : floor - remainder + idStride + idOffset
    }

    /// Owners with hints waiting to be delivered (none in flight), in id order.
    public var pendingOwners: [NodeID] { pending.keys.filter { inFlight[$0]?.isEmpty ?? true }.sorted() }

    /// Hints held (pending and in flight).
    public var count: Int { pending.values.reduce(0) { $0 + $1.count } + inFlight.values.reduce(0) { $0 + $1.count } }

    /// What is held for one owner: how many hints, their bytes, and when the oldest was stored.
    public struct OwnerSummary: Sendable, Hashable {
        public var count = 0
        public var bytes = 0
        public var oldest: WallClockTime?

        public init(count: Int = 0, bytes: Int = 0, oldest: WallClockTime? = nil) {
            self.count = count
            self.bytes = bytes
            self.oldest = oldest
        }

        /// The two summaries of one owner (two ledgers of one node) as one.
        public func adding(_ other: OwnerSummary) -> OwnerSummary {
            let oldest: WallClockTime? = switch (self.oldest, other.oldest) {
            case (let a?, let b?): min(a, b)
            case (let a, let b): a ?? b
            }
            return OwnerSummary(count: count + other.count, bytes: bytes + other.bytes, oldest: oldest)
        }
    }

    /// The hints held (pending and in flight) per owner.
    public var summary: [NodeID: OwnerSummary] {
        var result: [NodeID: OwnerSummary] = [:]
        for hints in [pending, inFlight] {
            for (owner, list) in hints where !list.isEmpty {
                let oldest = list.map(\.storedAt).min()
                result[owner] = result[owner, default: OwnerSummary()].adding(
                    OwnerSummary(count: list.count, bytes: list.reduce(0) { $0 + $1.bytes }, oldest: oldest))
            }
        }
        return result
    }

    // MARK: inputs

    /// A write for `owner` was stored here as a fallback.
    public mutating func store(owner: NodeID, partition: Int, keyHash: KeyHash, bytes: Int, now: WallClockTime) -> [Effect] {
        precondition(bytes >= 0, "hint of \(bytes) bytes")
        let hint = Hint(id: nextId, owner: owner, partition: partition, keyHash: keyHash, bytes: bytes, storedAt: now)
        nextId += idStride
        pending[owner, default: []].append(hint)
        totalBytes += bytes
        var effects: [Effect] = [.persist(hint)]
        effects += enforceBytes()
        return effects
    }

    /// The shell's failure detector says `owner` is reachable: start (or continue) delivery.
    public mutating func ownerReachable(_ owner: NodeID, now: WallClockTime) -> [Effect] {
        var effects = expire(now: now)
        guard inFlight[owner, default: []].isEmpty, var queue = pending[owner], !queue.isEmpty else { return effects }
        let batch = Array(queue.prefix(limits.batchSize))
        queue.removeFirst(batch.count)
        pending[owner] = queue.isEmpty ? nil : queue
        inFlight[owner] = batch
        effects.append(.deliver(owner: owner, hints: batch))
        return effects
    }

    /// `owner` durably stored the batch in flight: delete those hints, send the next batch.
    public mutating func delivered(owner: NodeID, now: WallClockTime) -> [Effect] {
        let batch = inFlight.removeValue(forKey: owner) ?? []
        var effects: [Effect] = []
        for hint in batch {
            totalBytes -= hint.bytes
            deliveredCount += 1
            effects.append(.delete(id: hint.id))
        }
        return effects + ownerReachable(owner, now: now)
    }

    /// The batch to `owner` failed (timeout, owner down again): keep the hints for later.
    public mutating func deliveryFailed(owner: NodeID) {
        guard let batch = inFlight.removeValue(forKey: owner), !batch.isEmpty else { return }
        pending[owner] = batch + (pending[owner] ?? [])
    }

    /// Time passes: drop hints past the age limit.
    public mutating func tick(now: WallClockTime) -> [Effect] { expire(now: now) }

    /// After a restart: the hints found in durable storage (ids as persisted). Nothing was in
    /// flight across a restart; every hint is pending again. New ids start above `idFloor` too
    /// (the highest id in the store, whichever ledger kept it).
    public mutating func restore(_ hints: [Hint], now: WallClockTime, idFloor: UInt64 = 0) -> [Effect] {
        var floor = max(idFloor, nextId)
        for hint in hints.sorted(by: { $0.id < $1.id }) {
            pending[hint.owner, default: []].append(hint)
            totalBytes += hint.bytes
            floor = max(floor, hint.id + 1)
        }
        nextId = firstId(atLeast: floor)
        return expire(now: now) + enforceBytes()
    }

    // MARK: bounds

    private mutating func expire(now: WallClockTime) -> [Effect] {
        var effects: [Effect] = []
        for owner in pending.keys.sorted() {
            guard var queue = pending[owner] else { continue }
            while let oldest = queue.first, now >= oldest.storedAt + limits.maxAgeMilliseconds {
                queue.removeFirst()
                effects += drop(oldest, reason: .tooOld)
            }
            pending[owner] = queue.isEmpty ? nil : queue
        }
        return effects
    }

    /// Drops the oldest pending hints (over all owners) until the byte bound holds.
    private mutating func enforceBytes() -> [Effect] {
        var effects: [Effect] = []
        while totalBytes > limits.maxBytes {
            guard let owner = pending.min(by: { ($0.value[0].id) < ($1.value[0].id) })?.key,
                var queue = pending[owner]
            else { break }  // only in-flight hints left; they settle by delivery
            let oldest = queue.removeFirst()
            pending[owner] = queue.isEmpty ? nil : queue
            effects += drop(oldest, reason: .overBytes)
        }
        return effects
    }

    private mutating func drop(_ hint: Hint, reason: DropReason) -> [Effect] {
        totalBytes -= hint.bytes
        droppedCount += 1
        return [.delete(id: hint.id), .requestAntiEntropy(partition: hint.partition, owner: hint.owner, reason: reason)]
    }
}
