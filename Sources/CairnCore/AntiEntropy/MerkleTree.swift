/// The Merkle tree of one key-partition replica, over (key hash, version hash) pairs.
///
/// ```
///  level 0                         [root]                      one node
///                       /        /   |    \       \
///  level 1          [ n0 ]    [ n1 ] ...  [ n30 ] [ n31 ]       fanout nodes
///                  / ... \
///  level L     [seg 0] ... [seg 31]  ...  ...  [seg fanout^L-1]  segments (leaves)
///                 |
///          Σ mix(keyHash, versionHash) over the keys whose hash falls in the segment
/// ```
/// Every node holds the wrapping sum of `mix(keyHash, versionHash)` over the keys below it,
/// so a write changes one leaf and its ancestors by the same delta: the tree is updated on the
/// write path in O(levels) additions and is always current (riak_kv's hashtree rebuilds
/// segments from a sorted key store instead; DESIGN.md §2 wants the tree current at all
/// times). Equal sums mean equal contents except with probability about 2^-64 per compared
/// node, since `mix` is a full-avalanche 64-bit finaliser over inputs that are already hashes.
///
/// A key's segment comes from the *low* bits of its hash: the high bits choose the partition
/// (`Ring`), so within a partition they are nearly constant and would crowd few segments.
/// The tree itself holds no keys; the replica that owns it lists the keys of a segment when an
/// exchange (`MerkleExchange`) has found the segment differs.
public struct MerkleTree: Sendable, Equatable {
    /// log2 of the children per inner node.
    public let fanoutBits: Int
    /// Levels below the root; segments = fanout^levels.
    public let levels: Int
    /// nodes[level][index]; level 0 is the root, level `levels` the segments.
    private var nodes: [[UInt64]]

    /// - Parameters:
    ///   - fanoutBits: children per node as a power of two (default 32 children).
    ///   - levels: depth below the root (default 2: 1,024 segments).
    public init(fanoutBits: Int = 5, levels: Int = 2) {
        precondition(fanoutBits >= 1 && levels >= 1 && fanoutBits * levels <= 24,
            "MerkleTree shape fanoutBits \(fanoutBits) levels \(levels)")
        self.fanoutBits = fanoutBits
        self.levels = levels
        nodes = (0...levels).map { [UInt64](repeating: 0, count: 1 << (fanoutBits * $0)) }
    }

    public var fanout: Int { 1 << fanoutBits }
    public var segmentCount: Int { 1 << (fanoutBits * levels) }
    public var root: UInt64 { nodes[0][0] }

    /// The segment a key hash falls in.
    public func segment(of key: KeyHash) -> Int { Int(truncatingIfNeeded: key.value) & (segmentCount - 1) }

    /// The hash one (key, version) pair contributes.
    public static func mix(_ key: KeyHash, _ versionHash: UInt64) -> UInt64 {
        // Rotate so (k, v) and (v, k) differ, then the murmur3 64-bit finaliser.
        var h = key.value ^ (versionHash << 23 | versionHash >> 41) ^ 0x9E37_79B9_7F4A_7C15
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    /// Adds a key at a version.
    public mutating func insert(_ key: KeyHash, versionHash: UInt64) {
        apply(segment(of: key), delta: MerkleTree.mix(key, versionHash))
    }

    /// Removes a key at a version (the version it was inserted with).
    public mutating func remove(_ key: KeyHash, versionHash: UInt64) {
        apply(segment(of: key), delta: 0 &- MerkleTree.mix(key, versionHash))
    }

    /// Replaces a key's version: `old` nil for a new key, `new` nil for a key that went away.
    public mutating func update(_ key: KeyHash, from old: UInt64?, to new: UInt64?) {
        var delta: UInt64 = 0
        if let old { delta &-= MerkleTree.mix(key, old) }
        if let new { delta &+= MerkleTree.mix(key, new) }
        if delta != 0 { apply(segment(of: key), delta: delta) }
    }

    private mutating func apply(_ segment: Int, delta: UInt64) {
        var index = segment
        for level in stride(from: levels, through: 0, by: -1) {
            nodes[level][index] &+= delta
            index >>= fanoutBits
        }
    }

    /// The hashes of the nodes `indices` at `level` (what an exchange sends the other side).
    public func hashes(level: Int, indices: [Int]) -> [UInt64] {
        precondition(level >= 0 && level <= levels, "Merkle level \(level) of \(levels)")
        return indices.map { nodes[level][$0] }
    }

    /// The children of node `index` at `level`, as indices at `level + 1`.
    public func children(of index: Int) -> Range<Int> { (index << fanoutBits)..<((index + 1) << fanoutBits) }
}
