import CairnCore
import CairnStorage
import CairnTransport
import NIOCore

/// Everything `cairnd` is started with (flags, a config file, the environment; see
/// docs/operations.md).
public struct NodeConfiguration: Sendable {
    /// Where the node keeps its identity, membership state, partitions and hints.
    public var dataDirectory: String
    /// Internode address (`host:port`): where peers connect, and the source address of every
    /// outgoing internode connection.
    public var listenHost: String
    public var listenPort: Int
    /// Client HTTP address.
    public var httpHost: String
    public var httpPort: Int
    /// Internode addresses of nodes to join through (empty: start a new cluster).
    public var seeds: [String]
    public var clusterName: String
    /// Q, fixed when the cluster is created.
    public var partitions: Int
    /// N, the replicas per key.
    public var replicas: Int
    /// Default R and W when a request names none.
    public var readQuorum: Int
    public var writeQuorum: Int
    /// A shared cluster secret proven in every internode handshake (optional).
    public var secret: [UInt8]?
    /// Mutual TLS between nodes with the cluster CA's certificates (`--certs-dir`), or nil.
    public var internodeTLS: WireTLS?
    /// How long a client request may take before it fails with a timeout.
    public var requestTimeoutMilliseconds: UInt64
    /// The most client data requests (GET, PUT, DELETE, scan, CAS) the HTTP server serves at
    /// once; one more is answered `503 overloaded` with `Retry-After` (docs/api.md).
    public var maxInFlight: Int
    /// Durability of stored objects and hints. `always`: a replica acknowledges a write only
    /// once it is fsynced (group commit shares the fsync among concurrent writes).
    public var durability: Durability
    public var maxKeyBytes: Int
    public var maxValueBytes: Int
    /// Siblings a client write may leave on a key (DESIGN.md §2).
    public var siblingLimit: Int
    /// The object budget of a client write (`NodeCore.Settings.maxObjectBytes`): 16 MiB.
    public var maxObjectBytes: Int = DVVSet<[UInt8]>.defaultObjectBudget
    /// Anti-entropy: one Merkle exchange per this interval.
    public var exchangeIntervalMilliseconds: UInt64
    public var gossipIntervalMilliseconds: UInt64
    public var heartbeatIntervalMilliseconds: UInt64
    /// How long a deleted or expired key stays before the reaper may remove it, once every
    /// member confirms (docs/versioning.md, "Reaping"); 0 never reaps.
    public var tombstoneGraceSeconds: Int
    /// How old (by its ballots) a CAS acceptor state with nothing in progress must be before
    /// it is collected (docs/cas.md, "Collecting acceptor states"); 0 never collects.
    public var casStateGraceSeconds: Int
    /// The size at which a partition's active data file is closed and a new one started
    /// (closed files are what merge compacts).
    public var dataFileBytes: Int
    /// Unsafe on purpose, for checking the checkers only (`--unsafe-mode last-writer-wins`):
    /// a replica replaces its copy with whatever object arrives instead of merging, and a GET
    /// shows only one of a key's values, as a last-writer-wins store does, so concurrent and
    /// partitioned writes are lost. The chaos scenarios must report the losses
    /// (docs/reliability.md, "Checking the checkers").
    public var unsafeLastWriterWins = false
    /// Hint bytes the node keeps at most, and how long a hint is kept (`HintLedger.Limits`).
    public var hintMaxBytes = HintLedger.Limits().maxBytes
    public var hintMaxAgeSeconds = Int(HintLedger.Limits().maxAgeMilliseconds / 1_000)
    /// The handoff throttle at start, bytes per second per transfer (shared by the instances).
    public var handoffBytesPerSecond = 16 << 20
    /// The least milliseconds between two exchanges of each core instance's anti-entropy sweep
    /// at start (`--antientropy-interval`; retuned with `cairn cluster antientropy interval`).
    public var antiEntropyIntervalMilliseconds: UInt64 = 1_000
    /// Milliseconds this machine's clock may be off the cluster's median before the node warns
    /// (`--clock-bound`; `ClusterClock`).
    public var clockBoundMilliseconds: UInt64 = 500
    /// Unsafe on purpose (`--unsafe-mode unproven-membership`): gossiped member entries and rings
    /// are taken without checking their proofs, so any connected peer can remove members; and a
    /// data directory whose identity predates signing keys is accepted.
    public var acceptUnprovenMembership = false
    /// `--join staged`: a node that joins through seeds waits, `joining`, until an operator
    /// commits its join (`cairn cluster plan`, `cairn cluster commit`) instead of taking
    /// partitions at once.
    public var stagedJoin = false
    /// Core instances, each on its own event loop and owning its share of the partitions
    /// (`Shard`; docs/architecture.md, "The node"); the client listeners run on the same loops.
    /// Default: one per CPU core.
    public var cores: Int = min(System.coreCount, 16)

    public init(dataDirectory: String, listenHost: String = "127.0.0.1", listenPort: Int = 7070) {
        self.dataDirectory = dataDirectory
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.httpHost = listenHost
        self.httpPort = 7080
        self.seeds = []
        self.clusterName = "cairn"
        self.partitions = 64
        self.replicas = 3
        self.readQuorum = 2
        self.writeQuorum = 2
        self.secret = nil
        self.requestTimeoutMilliseconds = 2_000
        self.maxInFlight = 1024
        self.tombstoneGraceSeconds = 3_600
        self.casStateGraceSeconds = 3_600
        self.dataFileBytes = 128 << 20
        self.durability = .always
        self.maxKeyBytes = 1024
        self.maxValueBytes = 4 << 20
        self.siblingLimit = 64
        self.exchangeIntervalMilliseconds = 1_000
        self.gossipIntervalMilliseconds = 500
        self.heartbeatIntervalMilliseconds = 500
    }

    public var listenAddress: String { "\(listenHost):\(listenPort)" }
    public var httpAddress: String { "\(httpHost):\(httpPort)" }

    /// Checks the values against each other; the message names the bad one.
    public func validate() throws(ConfigurationError) {
        func fail(_ message: String) -> ConfigurationError { ConfigurationError(message: message) }
        guard !dataDirectory.isEmpty else { throw fail("--data must name a directory") }
        guard (1...65_535).contains(listenPort) else { throw fail("internode port \(listenPort) outside 1...65535") }
        guard (1...65_535).contains(httpPort) else { throw fail("HTTP port \(httpPort) outside 1...65535") }
        guard partitions >= 1, partitions <= 1 << 16, partitions & (partitions - 1) == 0 else {
            throw fail("--partitions \(partitions) must be a power of two in 1...65536")
        }
        guard (1...9).contains(replicas) else { throw fail("--n \(replicas) outside 1...9") }
        guard (1...replicas).contains(readQuorum), (1...replicas).contains(writeQuorum) else {
            throw fail("default R \(readQuorum) and W \(writeQuorum) must be in 1...N (\(replicas))")
        }
        guard !clusterName.isEmpty, clusterName.utf8.count <= 64 else { throw fail("--cluster must be 1...64 bytes") }
        if let secret, secret.count < 16 { throw fail("the cluster secret must be at least 16 bytes") }
        guard requestTimeoutMilliseconds >= 10 else { throw fail("request timeout below 10 ms") }
        guard (1...1_000_000).contains(maxInFlight) else { throw fail("--max-in-flight \(maxInFlight) outside 1...1000000") }
        guard (0...(366 * 86_400)).contains(tombstoneGraceSeconds) else {
            throw fail("--tombstone-grace \(tombstoneGraceSeconds) outside 0...31622400 seconds")
        }
        guard (0...(366 * 86_400)).contains(casStateGraceSeconds) else {
            throw fail("--cas-state-grace \(casStateGraceSeconds) outside 0...31622400 seconds")
        }
        guard ((64 << 10)...(1 << 30)).contains(dataFileBytes) else {
            throw fail("--data-file-size \(dataFileBytes) outside 65536...1073741824 bytes")
        }
        guard (1...(1 << 16)).contains(maxKeyBytes), (1...(64 << 20)).contains(maxValueBytes) else {
            throw fail("key limit 1...65536 and value limit 1...64 MiB")
        }
        guard (1...64).contains(cores) else { throw fail("--cores \(cores) outside 1...64") }
        for seed in seeds where seed.split(separator: ":").count < 2 {
            throw fail("seed \(seed) is not host:port")
        }
    }
}

public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
