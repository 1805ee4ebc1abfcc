import CairnCore

/// Which partitions one `NodeCore` instance owns: a node may run several instances, each on
/// its own executor (an event loop, a thread), so that no lock or single actor stands on the
/// request path. Instance `index` of `count` owns the partitions `p` with `p % count == index`.
///
/// Everything keyed by a partition lives in the instance that owns it: the key gate (so no two
/// storage operations on one key ever run at once), request tables, hints, handoff, pending
/// partitions, anti-entropy, reaping and CAS. The *home* instance (index 0) also runs the
/// node's membership (gossip, failure detection, leave and remove) and tells the others of each
/// change (`NodeCommand.publishCluster`); every instance tells the others what the node as a
/// whole needs of it (`ShardStatus`). One instance (`Shard.whole`) is a node as before.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The only instance of a node: every partition.
    public static let whole = Shard(index: 0, count: 1)

    /// The most instances one node runs (partitions per instance stay ≥ 1 with Q ≥ 64).
    public static let maximumCount = 64

    public init(index: Int, count: Int) {
        precondition(count >= 1 && count <= Self.maximumCount && index >= 0 && index < count, "shard \(index) of \(count)")
        self.index = index
        self.count = count
    }

    /// Every instance of a node that runs `count`.
    public static func all(count: Int) -> [Shard] { (0..<count).map { Shard(index: $0, count: count) } }

    /// The instance that runs membership.
    public var isHome: Bool { index == 0 }

    public func owns(_ partition: Int) -> Bool { partition >= 0 && partition % count == index }

    /// The index of the instance of `count` that owns `partition` (the home instance for a
    /// number no partition has, which then refuses it).
    public static func index(of partition: Int, count: Int) -> Int { partition >= 0 ? partition % count : 0 }

    public var description: String { "shard \(index) of \(count)" }
}

/// The cluster as the home instance's membership sees it, as every instance of the node acts
/// on it: the ring, the member entries, and the members reported reachable.
public struct ClusterSnapshot: Sendable, Equatable {
    public var ring: Membership.VersionedRing?
    public var members: [NodeID: Membership.Member]
    public var reachable: Set<NodeID>

    public init(ring: Membership.VersionedRing?, members: [NodeID: Membership.Member], reachable: Set<NodeID>) {
        self.ring = ring
        self.members = members
        self.reachable = reachable
    }

    init(_ membership: Membership.Instance) {
        self.init(ring: membership.ring, members: membership.state.members, reachable: membership.reportedReachable)
    }
}

/// What one instance tells the node's other instances of itself (`NodeCore.statusIfChanged`).
public struct ShardStatus: Sendable, Equatable {
    /// Its partitions gained in a ring change whose data is still arriving: a scan coordinated
    /// by any instance treats them as unavailable here.
    public var pending: Set<Int>
    /// A leaving node: this instance has sent every transfer it owes and been gathered from
    /// (the home instance makes the node `left` once every instance has).
    public var leaveDone: Bool

    public init(pending: Set<Int>, leaveDone: Bool) {
        self.pending = pending
        self.leaveDone = leaveDone
    }
}

/// Where an executor hands each event of a node that runs `shardCount` instances: by the
/// partition a request or message names or whose key it carries. Membership, operator actions,
/// scans and anything before the node knows the ring's partition count go to the home instance.
/// Answers to requests, storage completions and timers go back to the instance that issued them.
public struct ShardRouter: Sendable {
    public let shardCount: Int
    /// The cluster's partition count (Q), once known; it never changes for a cluster.
    public var partitionCount: Int?
    let keyHash: @Sendable ([UInt8]) -> KeyHash

    public init(shardCount: Int, partitionCount: Int?, keyHash: @escaping @Sendable ([UInt8]) -> KeyHash) {
        self.shardCount = shardCount
        self.partitionCount = partitionCount
        self.keyHash = keyHash
    }

    /// The instance that owns `key`.
    public func shard(forKey key: [UInt8]) -> Int {
        guard shardCount > 1, let partitionCount else { return 0 }
        return Shard.index(of: Ring.partition(for: keyHash(key), partitionCount: partitionCount), count: shardCount)
    }

    public func shard(forPartition partition: Int) -> Int {
        shardCount > 1 ? Shard.index(of: partition, count: shardCount) : 0
    }

    /// The instance a peer's request or one-way message goes to.
    public func shard(for message: WireMessage) -> Int {
        guard shardCount > 1 else { return 0 }
        switch message {
        case .read(let read): return shard(forPartition: read.partition)
        case .replicate(let replicate): return shard(forPartition: replicate.partition)
        case .readRepair(let repair): return shard(forPartition: repair.partition)
        case .forwardedWrite(let forwarded): return shard(forKey: forwarded.key)
        case .hintBatch(let items): return items.first.map { shard(forPartition: $0.partition) } ?? 0
        case .cas(let key, _): return shard(forKey: key)
        case .handoffBatch(let batch): return shard(forPartition: batch.partition)
        case .handoffRequest(let partition): return shard(forPartition: partition)
        case .merkleHashesRequest(let partition, _): return shard(forPartition: partition)
        case .segmentObjectsRequest(let request): return shard(forPartition: request.partition)
        case .reapCheck(let check): return shard(forPartition: check.partition)
        case .reapNow(let partition, _): return shard(forPartition: partition)
        case .casStatesRequest(let partition, _): return shard(forPartition: partition)
        case .traced(_, let message): return shard(for: message)
        default: return 0
        }
    }
}
