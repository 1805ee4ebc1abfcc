/// The actor a replica mints a key's next dot under: a fresh epoch for every key it starts
/// minting for, so that no dot is ever minted twice (Riak KV679).
///
/// A dot `(actor, counter)` is unique only if the actor advances its counter from an object
/// that holds every dot it minted before. A replica counts from its own stored object, so any
/// time it stops holding a key's object — the hint was delivered and deleted, the partition was
/// handed off and dropped, the node lost its disk — its next write of that key would count from
/// 1 again and reissue dots that other replicas hold; they would take the new write for one
/// they have already seen and drop it. (The simulator finds exactly this with a fallback that
/// coordinates twice for the same key across a hint delivery.)
///
/// The rule, in the manner of riak_kv's per-key epochs with a leased vnode counter:
///
/// - With each stored object the replica keeps, locally and never replicated, the epoch it
///   mints under for that key. It is dropped together with the object.
/// - To coordinate a write, the replica uses `ReplicaActor(node, epoch)` from that record; when
///   it has none (it holds no object, or the object came from elsewhere), it takes a fresh epoch
///   from this allocator and records it with the object it stores.
///
/// Every dot of `(node, e)` is then minted from one chain of local objects that only grows
/// (by `update` and `sync`), so its counters never repeat. Epochs come from a node-wide counter
/// that is persisted in leases: `allocate()` asks the shell to persist a new upper bound before
/// it hands out the first epoch under it, and after a restart the allocator starts at the last
/// persisted bound, skipping whatever of the old lease was unused. A node that loses its disk
/// loses the counter too, so it must come back under a new identity (its `NodeID` lives in the
/// data directory), never reuse the old one's epochs.
///
/// A coordinator may send a freshly minted object to the other replicas before its own copy is
/// durable (`Quorum.WriteCoordinator.onMinted`). If the node then stops uncleanly, its disk may
/// hold the key's previous object while the others hold the new dot, and counting from the
/// previous object would mint that dot again. So after an unclean stop no recorded epoch from
/// before it is trusted (`trustedFrom`): each key's first write takes a fresh epoch, which
/// costs one more entry in the key's history per unclean stop (riak_kv changes its vnode id
/// after an unclean shutdown for the same reason).
public struct MintEpochs: Sendable, Hashable {
    public let node: NodeID
    /// How many epochs one persisted lease covers.
    public let leaseSize: UInt64
    /// The next epoch to hand out.
    public private(set) var next: UInt64
    /// Epochs below this are covered by the persisted lease.
    public private(set) var leasedThrough: UInt64

    /// Epochs handed out are `offset` modulo `stride`: a node running several allocators (one
    /// per core instance, `NodeCore`'s shards) gives each its own residue, and after a restart
    /// every allocator starts above the highest lease any of them persisted.
    public let stride: UInt64
    public let offset: UInt64
    /// Recorded epochs below this are not minted under again (an unclean stop came between):
    /// the key takes a fresh epoch instead. 0 after a clean stop.
    public private(set) var trustedFrom: UInt64

    /// - Parameters:
    ///   - persistedLease: the bound last persisted (0 for a new node); with several
    ///     allocators, the highest any of them persisted.
    ///   - afterUncleanStop: the node did not stop cleanly last time (a crash, a kill, a power
    ///     loss), so writes it sent before may not be on its disk: every epoch it recorded
    ///     before is distrusted (`trustedFrom`).
    public init(node: NodeID, persistedLease: UInt64, leaseSize: UInt64 = 4_096, stride: UInt64 = 1, offset: UInt64 = 0,
                afterUncleanStop: Bool = false) {
        precondition(leaseSize >= 1, "lease size \(leaseSize) must be at least 1")
        precondition(stride >= 1 && offset < stride, "mint epochs \(offset) mod \(stride)")
        self.node = node
        self.leaseSize = leaseSize
        self.stride = stride
        self.offset = offset
        let remainder = persistedLease % stride
        self.next = remainder <= offset ? persistedLease - remainder + offset : persistedLease - remainder + stride + offset
        self.leasedThrough = persistedLease
        self.trustedFrom = afterUncleanStop ? persistedLease : 0
    }

    /// The allocator started again from `persistedLease` (a lease could not be persisted), with
    /// the same stride, offset and distrust.
    public func restarted(persistedLease: UInt64) -> MintEpochs {
        var restarted = MintEpochs(node: node, persistedLease: persistedLease, leaseSize: leaseSize, stride: stride, offset: offset)
        restarted.trustedFrom = trustedFrom
        return restarted
    }

    /// The epoch to mint under for a key recorded under `recorded`: the record when it is
    /// trusted, else nil (take a fresh one).
    public func usable(_ recorded: UInt64?) -> UInt64? {
        guard let recorded, recorded >= trustedFrom else { return nil }
        return recorded
    }

    /// A fresh actor for a key this node starts minting for. When `persistLease` is set, the
    /// shell must make it durable before any dot minted under `actor` is stored.
    public mutating func allocate() -> (actor: ReplicaActor, persistLease: UInt64?) {
        precondition(next < UInt64.max - leaseSize * stride, "mint epochs exhausted for node \(node)")
        var lease: UInt64?
        if next >= leasedThrough {
            leasedThrough = next + leaseSize * stride
            lease = leasedThrough
        }
        let actor = ReplicaActor(node: node, epoch: next)
        next += stride
        return (actor, lease)
    }
}
