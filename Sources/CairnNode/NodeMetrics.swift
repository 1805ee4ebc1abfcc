import CairnCore
import CoreMetrics

/// Every metric the node reports, declared in one place (swift-cluster-membership's
/// `Metrics.swift` pattern). `cairnd` bootstraps the Prometheus backend; names and meanings are
/// listed in docs/operations.md.
public struct NodeMetrics: Sendable {
    enum Operation: String { case get, put, delete }
    enum QuorumOutcome: String { case success, failure }

    let requestCounters: [Operation: Counter]
    let latencies: [Operation: CoreMetrics.Timer]
    let quorumOutcomes: [QuorumOutcome: Counter]
    let readRepairs = Counter(label: "cairn_read_repairs_total")
    let hintsStored = Counter(label: "cairn_hints_stored_total")
    /// Dead keys (all siblings deleted or expired) removed physically after the grace period.
    let keysReaped = Counter(label: "cairn_keys_reaped_total")
    let orphansDropped = Counter(label: "cairn_partition_copies_dropped_total")
    let acceptorsCollected = Counter(label: "cairn_cas_states_collected_total")
    let casPartitionsGathered = Counter(label: "cairn_cas_partitions_gathered_total")
    let hintsDelivered = Counter(label: "cairn_hints_delivered_total")
    let hintsDropped = Counter(label: "cairn_hints_dropped_total")
    let hintsHeld = Gauge(label: "cairn_hints_held")
    let exchanges = Counter(label: "cairn_antientropy_exchanges_total")
    let exchangeRepairs = Counter(label: "cairn_antientropy_repaired_objects_total")
    let membersReachable = Gauge(label: "cairn_members_reachable")
    let members = Gauge(label: "cairn_members")
    let partitionsHeld = Gauge(label: "cairn_partitions_held")
    let storageKeys = Gauge(label: "cairn_storage_keys")
    let storageLiveBytes = Gauge(label: "cairn_storage_live_bytes")
    let storageDeadBytes = Gauge(label: "cairn_storage_dead_bytes")
    let storageKeydirBytes = Gauge(label: "cairn_storage_keydir_bytes")
    let storageMerges = Gauge(label: "cairn_storage_merges")
    let storageCorruptRecords = Gauge(label: "cairn_storage_corrupt_records_skipped")
    /// Partitions (and the commit log, counted as one) that refuse writes after a failed fsync.
    let storageFailed = Gauge(label: "cairn_storage_failed")
    let handoffsCompleted = Counter(label: "cairn_handoff_transfers_total")
    let handoffKeysSent = Counter(label: "cairn_handoff_keys_sent_total")
    /// Siblings per object a quorum read returned (deleted and expired ones included): how
    /// often writes race (the status page draws it).
    let readSiblings = Recorder(label: NodeMetrics.readSiblingsLabel, aggregate: true)
    let handoffPaused = Gauge(label: "cairn_handoff_paused")
    let antiEntropyPaused = Gauge(label: "cairn_antientropy_paused")
    let antiEntropyInterval = Gauge(label: "cairn_antientropy_interval_seconds")
    let clockCorrection = Gauge(label: "cairn_clock_correction_seconds")
    let handoffBytesPerSecond = Gauge(label: "cairn_handoff_bytes_per_second")
    let transfersActive = Gauge(label: "cairn_handoff_transfers_active")
    /// Gossiped member entries and rings not taken (unproven, wrong signer, ring ahead of its entries).
    let membershipRefused = Counter(label: "cairn_membership_refused_total")

    init() {
        var counters: [Operation: Counter] = [:]
        var timers: [Operation: CoreMetrics.Timer] = [:]
        for operation in [Operation.get, .put, .delete] {
            counters[operation] = Counter(label: "cairn_requests_total", dimensions: [("op", operation.rawValue)])
            timers[operation] = CoreMetrics.Timer(label: Self.requestDurationLabel, dimensions: [("op", operation.rawValue)],
                                                 preferredDisplayUnit: .seconds)
        }
        requestCounters = counters
        latencies = timers
        quorumOutcomes = [
            .success: Counter(label: "cairn_quorum_outcomes_total", dimensions: [("outcome", "success")]),
            .failure: Counter(label: "cairn_quorum_outcomes_total", dimensions: [("outcome", "failure")]),
        ]
    }

    func requests(_ operation: Operation) { requestCounters[operation]?.increment() }

    func latency(_ operation: Operation, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        latencies[operation]?.recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    func quorum(_ outcome: QuorumOutcome) { quorumOutcomes[outcome]?.increment() }
}

extension NodeMetrics {
    static let requestDurationLabel = "cairn_request_duration_seconds"

    /// The upper bounds of the request latency histogram's buckets: 100 µs to 10 s, three per
    /// decade (1, 2.5, 5).
    ///
    /// swift-prometheus's default timer buckets start at 5 ms, made for web requests. A GET on
    /// loopback takes about 0.5 ms and a fsynced PUT 1–2 ms (docs/benchmarks.md), so with those
    /// defaults nearly every request fell in the first bucket and the histogram could not tell
    /// a 0.3 ms p50 from a 4 ms one. The top stays at 10 s, the CLI's default timeout.
    public static let requestDurationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// The buckets of each duration histogram the node reports, by metric name: what `cairnd`
    /// gives the Prometheus backend (`PrometheusMetricsFactory.durationHistogramBuckets`), since
    /// swift-metrics' `Timer` has no way to say.
    public static let durationHistogramBuckets: [String: [Duration]] = [requestDurationLabel: requestDurationBuckets]

    static let readSiblingsLabel = "cairn_read_siblings"
    static let partitionKeysLabel = "cairn_partition_keys"
    static let partitionBytesLabel = "cairn_partition_live_bytes"
    static let exchangeAgeLabel = "cairn_antientropy_last_exchange_age_seconds"
    static let segmentsDifferingLabel = "cairn_antientropy_segments_differing"

    /// The gauge `label` of one partition (`partition="P"`); the backend keeps one per labels.
    func partition(_ label: String, _ partition: Int) -> Gauge {
        Gauge(label: label, dimensions: [("partition", String(partition))])
    }

    /// This node's estimate of a peer's clock offset (`peer="<id>"`), seconds.
    func clockOffset(_ peer: NodeID) -> Gauge {
        Gauge(label: "cairn_clock_offset_seconds", dimensions: [("peer", peer.description)])
    }

    /// Hints held for one target node (`target="<id>"`).
    func hintsHeldFor(_ target: NodeID) -> Gauge {
        Gauge(label: "cairn_hints_held_for", dimensions: [("target", target.description)])
    }

    /// The buckets of each value histogram, by metric name (`valueHistogramBuckets`): siblings
    /// per read, 1 (no race) to 100 (the default sibling limit).
    public static let valueHistogramBuckets: [String: [Double]] = [readSiblingsLabel: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 100]]
}
