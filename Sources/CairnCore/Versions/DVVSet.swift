/// A dotted version vector set: the causal history of one key and its concurrent siblings.
///
/// Every stored object is one of these (DESIGN.md §2, "Versioning"). It is the compact form of
/// dotted version vectors (Preguiça et al. 2012, "Dotted Version Vectors: Logical Clocks for
/// Optimistic Replication", §6; riak_kv `dvvset.erl`): one entry per actor that has written
/// the key, each entry holding
///
/// ```
///   actor      counter   siblings (oldest first)
///   a@0        5         [s4, s5]       dots (a@0,4), (a@0,5) live; 1…3 seen and superseded
///   b@2        2         []             dots (b@2,1), (b@2,2) seen and superseded
/// ```
///
/// The counter is the newest write of that actor this object has seen; the siblings are the
/// still-live writes, which are always the newest counters of the entry, without gaps. That
/// holds because a context supersedes by version vector: if it covers `(a, n)` it covers every
/// `(a, m ≤ n)`. So the dots need not be stored, and the whole history costs one counter per
/// actor — the size of a version vector, without its false conflicts (§3 of the paper).
///
/// The operations:
/// - `update(with:_:by:)`: a coordinator writes a sibling with the client's context. It mints
///   the next dot of its actor, drops the siblings the context covers and keeps the others.
/// - `sync(_:_:)`: replicas merge objects (replication, read repair, hints, handoff,
///   anti-entropy). Commutative, associative and idempotent, so the order and repetition of
///   deliveries does not matter.
/// - `join()`: the causal context a GET hands the client.
/// - `siblings`, `values(atMilliseconds:)`: what a GET returns.
///
/// The sibling cap applies to client writes only (`update(with:_:by:siblingLimit:)`); `sync`
/// never drops a sibling, because a replica that refused a merge would lose acknowledged data.
public struct DVVSet<Value: Hashable & Sendable>: Hashable, Sendable {
    /// One actor's part of the history.
    struct Entry: Hashable, Sendable {
        var actor: ReplicaActor
        /// The newest counter of `actor` this object has seen (at least 1).
        var counter: UInt64
        /// Live siblings of `actor`, oldest first: `siblings[i]` has counter
        /// `counter - siblings.count + 1 + i`. Never more than `counter` of them.
        var siblings: [Sibling<Value>]

        /// Counters at or below this have been seen and superseded.
        var floor: UInt64 { counter - UInt64(siblings.count) }
    }

    /// Sorted by actor, one per actor.
    private(set) var entries: [Entry]

    /// The empty object: no history, no siblings (a key never written).
    public init() { entries = [] }

    /// `entries` must be sorted by actor, unique, with every entry's invariants.
    init(sortedEntries: [Entry]) {
        entries = sortedEntries
    }

    /// An object with the history of `context` and no siblings, for `update`.
    init(context: CausalContext) {
        entries = context.entries.map { Entry(actor: $0.actor, counter: $0.counter, siblings: []) }
    }

    /// The object made by the first write of a key: one sibling with dot `(actor, 1)`.
    public static func new(_ sibling: Sibling<Value>, by actor: ReplicaActor) -> DVVSet {
        DVVSet(sortedEntries: [Entry(actor: actor, counter: 1, siblings: [sibling])])
    }

    /// The object made by the first write of a key: one value with dot `(actor, 1)`.
    public static func new(_ value: Value, expiry: WallClockTime? = nil, by actor: ReplicaActor) -> DVVSet {
        new(.value(value, expiry: expiry), by: actor)
    }

    // MARK: - Update

    /// Writes `sibling` as the coordinator `actor`, given the context the client read.
    ///
    /// Paper §5, `update(S, Sr, r)`: the new version dominates everything in `context`, is
    /// dominated by nothing stored, and leaves the siblings the context does not cover in
    /// place as concurrent. The context may know writes this replica has not received yet;
    /// they are recorded as seen, so when they arrive they are already superseded.
    ///
    /// `self` must be this actor's own stored object for the key, so that its counter for
    /// `actor` is the last one minted. Returns the new dot.
    @discardableResult
    public mutating func update(with context: CausalContext, _ sibling: Sibling<Value>, by actor: ReplicaActor) -> Dot {
        self = DVVSet.sync(self, DVVSet(context: context))
        return mint(sibling, by: actor)
    }

    /// Writes `value` as the coordinator `actor`, given the context the client read.
    @discardableResult
    public mutating func update(
        with context: CausalContext, value: Value, expiry: WallClockTime? = nil, by actor: ReplicaActor
    ) -> Dot {
        update(with: context, .value(value, expiry: expiry), by: actor)
    }

    /// Deletes as the coordinator `actor`: a tombstone sibling that supersedes what `context` covers.
    @discardableResult
    public mutating func delete(with context: CausalContext, by actor: ReplicaActor) -> Dot {
        update(with: context, .tombstone, by: actor)
    }

    /// Appends `sibling` under the next counter of `actor` (the paper's `event`).
    mutating func mint(_ sibling: Sibling<Value>, by actor: ReplicaActor) -> Dot {
        let index = entryIndex(of: actor)
        if index < entries.count, entries[index].actor == actor {
            let counter = entries[index].counter
            precondition(counter < Dot.maxCounter, "counter exhausted for \(actor): \(counter)")
            entries[index].counter = counter + 1
            entries[index].siblings.append(sibling)
            return Dot(actor: actor, counter: counter + 1)
        }
        entries.insert(Entry(actor: actor, counter: 1, siblings: [sibling]), at: index)
        return Dot(actor: actor, counter: 1)
    }

    /// The index of `actor`'s entry, or where it would be inserted.
    func entryIndex(of actor: ReplicaActor) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].actor < actor { low = mid + 1 } else { high = mid }
        }
        return low
    }

    // MARK: - Sync

    /// Merges two replicas' objects: the union of their histories, keeping each sibling that
    /// neither side has superseded.
    ///
    /// Paper §6 / riak_kv `dvvset:sync/1`. Per actor, the side with the larger counter knows
    /// more writes; of its siblings it keeps those the other side has not superseded (counters
    /// above the other side's floor). Both sides hold the same sibling for the same dot, so the
    /// result does not depend on the argument order.
    public static func sync(_ a: DVVSet, _ b: DVVSet) -> DVVSet {
        var result: [Entry] = []
        result.reserveCapacity(max(a.entries.count, b.entries.count))
        var i = 0
        var j = 0
        while i < a.entries.count || j < b.entries.count {
            if j == b.entries.count || (i < a.entries.count && a.entries[i].actor < b.entries[j].actor) {
                result.append(a.entries[i])
                i += 1
            } else if i == a.entries.count || b.entries[j].actor < a.entries[i].actor {
                result.append(b.entries[j])
                j += 1
            } else {
                result.append(merge(a.entries[i], b.entries[j]))
                i += 1
                j += 1
            }
        }
        return DVVSet(sortedEntries: result)
    }

    /// Merges another replica's object into this one.
    public mutating func sync(with other: DVVSet) {
        self = DVVSet.sync(self, other)
    }

    /// Merges two entries of the same actor.
    static func merge(_ x: Entry, _ y: Entry) -> Entry {
        let (newer, older) = x.counter >= y.counter ? (x, y) : (y, x)
        guard older.floor > newer.floor else { return newer }
        // `older` has superseded counters up to its floor; keep only newer's siblings above it.
        var kept = newer
        kept.siblings.removeFirst(Int(older.floor - newer.floor))
        return kept
    }

    // MARK: - Reading

    /// The causal context of this object: every write it has seen (riak_kv `dvvset:join/1`).
    public func join() -> CausalContext {
        CausalContext(sortedEntries: entries.map { Dot(actor: $0.actor, counter: $0.counter) })
    }

    /// Every sibling with its dot, tombstones and expired ones included, in actor order and
    /// oldest first within an actor.
    public var siblings: [DottedSibling<Value>] {
        var result: [DottedSibling<Value>] = []
        result.reserveCapacity(size)
        for entry in entries {
            let first = entry.floor + 1
            for (offset, sibling) in entry.siblings.enumerated() {
                result.append(DottedSibling(dot: Dot(actor: entry.actor, counter: first + UInt64(offset)), sibling: sibling))
            }
        }
        return result
    }

    /// The number of siblings, tombstones included (riak_kv `dvvset:size/1`).
    public var size: Int {
        entries.reduce(0) { $0 + $1.siblings.count }
    }

    /// The number of actors in the history.
    public var actorCount: Int { entries.count }

    /// Whether nothing has ever been written (no history at all).
    public var isEmpty: Bool { entries.isEmpty }

    /// What a read at `now` sees of each sibling, in `siblings` order: its value,
    /// or a tombstone for a deleted or expired one.
    public func reads(at now: WallClockTime) -> [Sibling<Value>.Content] {
        entries.flatMap { $0.siblings.map { $0.read(at: now) } }
    }

    /// The live values at `now`: every sibling that is neither a tombstone nor
    /// expired, in `siblings` order. Empty means the key reads as absent.
    public func values(at now: WallClockTime) -> [Value] {
        reads(at: now).compactMap {
            if case .value(let value) = $0 { value } else { nil }
        }
    }

    /// Whether the key reads as absent at `now`: no live value.
    public func isDeleted(at now: WallClockTime) -> Bool {
        values(at: now).isEmpty
    }

    // MARK: - Order

    /// Whether `other` has seen every write this object has seen and more (riak_kv
    /// `dvvset:less/2`): this object is stale next to `other`.
    public func less(than other: DVVSet) -> Bool {
        other.join().dominates(join())
    }

    /// Whether this object has seen every write `other` has seen and more.
    public func dominates(_ other: DVVSet) -> Bool {
        join().dominates(other.join())
    }

    /// Whether this object has seen every write `other` has seen (equal histories included).
    public func descends(_ other: DVVSet) -> Bool {
        join().descends(other.join())
    }
}
