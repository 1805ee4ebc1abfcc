import CairnCore
import CairnNodeCore

/// What one simulated run does: the workload, the cluster's shape, the faults, and whether a
/// deliberately broken behaviour is switched on (to prove the checkers can fail).
public struct SimOptions: Sendable, Hashable {
    public enum Workload: String, Sendable, Hashable, CaseIterable {
        /// Clients add unique elements to a few keys by read → merge siblings → write with the
        /// context; deletes and TTL writes on other keys.
        case set
        /// Compare-and-set, linearizable reads and blind writes through Paxos on a few keys.
        case cas
        /// Plain PUTs (some with a TTL), DELETEs and GETs with no context, as a REST user
        /// makes them: each write supersedes what was acknowledged before it began.
        case plain
    }

    /// Deliberately wrong behaviours. Each must be reported by the checker of its workload.
    public enum Broken: String, Sendable, Hashable, CaseIterable {
        /// Replicas keep the object that arrived last instead of merging siblings (`sync`).
        case lastWriterWins
        /// A linearizable read answered from the coordinator's own acceptor, skipping Paxos.
        case localCASRead
        /// A coordinator always mints under its node's one actor, counting from whatever object
        /// it holds, even after it stopped holding the key (the Riak KV679 mistake).
        case fixedMintEpoch
        /// A plain write skips its read and supersedes nothing, so older values pile up as
        /// siblings.
        case plainWritesBlind
        /// A scan lists only the coordinating node's own copies, as the seed's scan did.
        case localScan
        /// Dead keys are removed at once and without asking the other members whether they
        /// hold a version that dominates the dead one.
        case reapWithoutConfirmation
        /// A former replica drops its copy of a partition as soon as it no longer replicates
        /// it, before any new owner has received it.
        case dropBeforeHandoff
        /// A node that gains a partition promises and accepts for it at once, without the
        /// acceptor states of the nodes that were its acceptors before.
        case casWithoutStateHandoff
        /// A node restarted after a crash keeps minting under the epochs it recorded before,
        /// although a write it sent to the other replicas may not have reached its own disk
        /// (coordinators replicate while their own store waits for its fsync), so it can mint
        /// a dot the others already hold.
        case trustEpochsAfterCrash
        /// The cluster clock measures but never corrects (`brokenNoClockCorrection`): a skewed
        /// node judges TTLs by its skew.
        case uncorrectedClocks
    }

    public var workload: Workload
    public var nodes = 5
    public var partitions = 16
    public var n = 3
    public var r = 2
    public var w = 2
    public var clients = 4
    /// Virtual time during which clients run and faults happen.
    public var clientPhaseMilliseconds: UInt64 = 6_000
    /// Crashes, restarts, partitions, drops and duplicates (off: a calm network, no crashes).
    public var faults = true
    /// At most one node loses its whole disk during a run (set workload only: a Paxos acceptor
    /// that forgets its promises is outside what Paxos tolerates).
    public var diskLoss = true
    /// A node joins, a member leaves and a crashed member is removed while clients run (set
    /// workload: Paxos state does not yet move with its partition, docs/cas.md).
    public var membershipChanges = true
    /// Each node's wall clock runs off by up to ±1 s, and the nemesis moves one by up to ±5 s
    /// (hint ages, ballots; monotonic time is never skewed).
    public var clockSkew = true
    /// Each node's clock skew, fixed for the run (node i gets element i; applied after
    /// `clockSkew`'s random ones): how a test sets one node 30 s ahead.
    public var fixedSkewsMilliseconds: [Int64]?
    /// The clock error the checkers tolerate for TTL expiry; nil: the largest error of a node's
    /// corrected clock measured while clients ran (`SimStats.clockErrorMilliseconds`) or the
    /// largest skew, whichever is larger.
    public var clockToleranceMilliseconds: UInt64?
    /// Node core instances per node (`Shard`); nil: each node runs 1 to 3, drawn per node, so
    /// instances of one node hand each other the cluster and their status as `cairnd`'s would.
    public var shards: Int?
    public var broken: Broken?

    public init(workload: Workload) { self.workload = workload }
}

/// The value the simulated store keeps: bytes, as in the node (a set workload's value is a
/// sorted list of unique elements, `SimValues.encode`).
public typealias SimValue = [UInt8]
public typealias SimObject = DVVSet<SimValue>

/// Set elements as stored values: 8 bytes big-endian each.
enum SimValues {
    static func encode(_ elements: [UInt64]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(elements.count * 8)
        for element in elements { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: element >> UInt64(shift))) } }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> [UInt64] {
        stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).map { start in
            bytes[start..<start + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }
}

/// What a client asks a node.
enum ClientRequest: Sendable {
    case get(key: Int, r: Int)
    case put(key: Int, value: SimValue, expiry: WallClockTime?, supersedes: Supersedes, w: Int)
    case delete(key: Int, supersedes: Supersedes, w: Int)
    case cas(key: Int, CAS.Proposer.Operation)
    /// A page of a cluster-wide scan (keys are bytes here: "key-N").
    case scan(prefix: [UInt8], after: [UInt8]?, limit: Int, values: Bool)
}

/// What a node answers a client.
enum ClientReply: Sendable {
    case found(SimObject)
    case notFound
    case stored
    case scanned(ScanPageResult)
    case failed(String)
    case cas(CAS.Proposer.Outcome)
}

/// The messages simulated nodes exchange: the node core's own `WireMessage`s as requests,
/// responses and one-way messages (the framing the real transport gives them), and the
/// shell's messages not yet moved into the core.
enum SimMessage: Sendable {
    /// A request of instance `shard` of the sender; the answer goes back to that instance.
    case request(call: UInt64, shard: Int, WireMessage)
    case response(call: UInt64, shard: Int, WireMessage)
    case oneWay(WireMessage)
}

/// What one core instance of a node hands another, through the node's executor.
enum ShardEvent: Sendable {
    case cluster(ClusterSnapshot)
    case status(from: Int, ShardStatus)
}

/// Everything that happens in a run, in virtual time.
enum SimEvent: Sendable {
    case deliver(to: Int, from: Int, SimMessage)
    case coreTimer(node: Int, generation: UInt64, shard: Int, NodeTimer)
    /// A request of the core went unanswered for its timeout.
    case callTimeout(node: Int, generation: UInt64, shard: Int, call: UInt64)
    /// What one instance of a node hands another (the home instance's cluster view, a status).
    case shardEvent(node: Int, generation: UInt64, shard: Int, ShardEvent)
    case clientRequest(node: Int, client: Int, operation: UInt64, ClientRequest)
    case clientReply(client: Int, operation: UInt64, ClientReply)
    case clientTimeout(client: Int, operation: UInt64)
    case clientWake(client: Int)
    case nemesis
    case restart(node: Int, loseDisk: Bool)
    /// The nemesis crashes the node now (if it is still in the same life).
    case crash(node: Int, generation: UInt64)
    /// A coordinator's write reached the simulated disk durably (`SimNode.unsynced`).
    case storageDone(node: Int, generation: UInt64, shard: Int, operation: UInt64, key: Int, StorageResult)
}

/// The simulated key space: small integers, stored as the bytes `key-N`, hashed
/// deterministically onto the ring.
enum SimKeys {
    static func hash(_ key: Int) -> KeyHash {
        var mixer = SplitMix64(seed: UInt64(bitPattern: Int64(key)) ^ 0x6B65_7973_7061_6365)
        return KeyHash(mixer.next())
    }

    static func bytes(_ key: Int) -> [UInt8] { Array("key-\(key)".utf8) }

    static func key(_ bytes: [UInt8]) -> Int? {
        guard bytes.count > 4, bytes.starts(with: Array("key-".utf8)) else { return nil }
        return Int(String(decoding: bytes.dropFirst(4), as: UTF8.self))
    }

    /// The hash the node core places byte keys with.
    static func hash(bytes: [UInt8]) -> KeyHash { key(bytes).map(hash) ?? KeyHash(UInt64(bytes.count)) }

    /// A deterministic hash of an object's state (history and live dots with their contents),
    /// for the Merkle trees. Two replicas with equal objects hash equal in every process.
    static func versionHash(_ object: SimObject) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ x: UInt64) {
            h = (h ^ x) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
        }
        for dot in object.join().entries {
            mix(dot.actor.node.high); mix(dot.actor.node.low); mix(dot.actor.epoch); mix(dot.counter)
        }
        for sibling in object.siblings {
            mix(sibling.dot.counter); mix(sibling.dot.actor.epoch); mix(sibling.sibling.expiry?.millisecondsSince1970 ?? 0)
            switch sibling.sibling.content {
            case .tombstone: mix(0xDEAD)
            case .value(let bytes):
                mix(UInt64(bytes.count))
                for element in SimValues.decode(bytes) { mix(element) }
            }
        }
        return h
    }
}
