import CairnCore
import CairnHTTP
import CairnNodeCore

/// What the node reports: cluster status, health, gauges; membership from the home instance,
/// the rest summed over every instance.
extension Node {
    /// `GET /v1/cluster` (docs/api.md): members with this node's view of their liveness, the
    /// ring, and the handoff transfers this node is sending.
    func statusJSON() async -> JSONValue { await home.statusJSON(await report()) }

    func healthReport() async -> HealthReport { await home.healthReport() }

    /// `GET /v1/cluster/partitions` (docs/api.md).
    func partitionsJSON() async -> JSONValue { await home.partitionsJSON(await report()) }

    func updateGauges() async { await home.updateGauges(await report()) }

    /// Hints, requests, pending partitions and transfers, summed over the instances.
    private func report() async -> NodeInstance.Report {
        var reports: [NodeInstance.Report] = []
        for instance in instances { reports.append(await instance.report()) }
        return NodeInstance.Report(summing: reports)
    }
}

extension NodeInstance {
    /// What one instance adds to the node's status.
    struct Report: Sendable {
        var hintsHeld = 0
        var requestsInFlight = 0
        var pendingPartitions: [Int] = []
        var transfers: [NodeCore.TransferProgress] = []
        var hints: [NodeID: HintLedger.OwnerSummary] = [:]
        /// Each instance runs the exchanges of its own partitions: no overlap.
        var exchanges: [Int: NodeInstance.ExchangeRecord] = [:]
        /// Handoff as the operator steers it: paused on any instance, the instances' throttles summed.
        var handoffPaused = false
        var handoffBytesPerSecond = 0
        /// The anti-entropy sweep: paused on any instance; the instances' interval (the same).
        var antiEntropyPaused = false
        var antiEntropyIntervalMilliseconds: UInt64 = 0

        init(summing reports: [Report]) {
            for report in reports {
                hintsHeld += report.hintsHeld
                requestsInFlight += report.requestsInFlight
                pendingPartitions += report.pendingPartitions
                transfers += report.transfers
                hints.merge(report.hints) { $0.adding($1) }
                exchanges.merge(report.exchanges) { $1 }
                handoffPaused = handoffPaused || report.handoffPaused
                handoffBytesPerSecond += report.handoffBytesPerSecond
                antiEntropyPaused = antiEntropyPaused || report.antiEntropyPaused
                antiEntropyIntervalMilliseconds = max(antiEntropyIntervalMilliseconds, report.antiEntropyIntervalMilliseconds)
            }
            pendingPartitions.sort()
            transfers.sort { ($0.transfer.partition, $0.transfer.target) < ($1.transfer.partition, $1.transfer.target) }
        }

        init(
            hintsHeld: Int, requestsInFlight: Int, pendingPartitions: [Int], transfers: [NodeCore.TransferProgress],
            hints: [NodeID: HintLedger.OwnerSummary], exchanges: [Int: NodeInstance.ExchangeRecord],
            handoff: (paused: Bool, bytesPerSecond: Int), antiEntropy: (paused: Bool, intervalMilliseconds: UInt64)
        ) {
            self.hintsHeld = hintsHeld
            self.requestsInFlight = requestsInFlight
            self.pendingPartitions = pendingPartitions
            self.transfers = transfers
            self.hints = hints
            self.exchanges = exchanges
            (handoffPaused, handoffBytesPerSecond) = handoff
            (antiEntropyPaused, antiEntropyIntervalMilliseconds) = antiEntropy
        }
    }

    func report() -> Report {
        Report(hintsHeld: core.hintsHeld, requestsInFlight: core.requestsInFlight, pendingPartitions: core.pendingPartitions,
               transfers: core.transferProgress, hints: core.hintSummary, exchanges: exchanges, handoff: core.handoffSteering,
               antiEntropy: core.antiEntropySteering)
    }

    /// Per partition: replicas in this node's ring, held or awaited here, keys and bytes here,
    /// the last anti-entropy exchange; and the hints held per target.
    func partitionsJSON(_ report: Report) -> JSONValue {
        let now = clockNow()
        let wallNow = wallTime()
        let stats = store.partitionStats()
        let pending = Set(report.pendingPartitions)
        var partitions: [JSONValue] = []
        if let ring = core.cluster.ring?.ring {
            for partition in 0..<ring.partitionCount {
                let replicas = ring.preferenceList(for: partition, n: configuration.replicas)
                var entry: [String: JSONValue] = [
                    "partition": .integer(Int64(partition)),
                    "replicas": .array(replicas.map { .string($0.description) }),
                    "here": .bool(replicas.contains(id)),
                    "pending": .bool(pending.contains(partition)),
                    "exchange": .null,
                ]
                if let held = stats[partition] {
                    entry["keys"] = .integer(Int64(held.keys))
                    entry["bytes"] = .integer(Int64(held.liveBytes))
                }
                if let exchange = report.exchanges[partition] {
                    entry["exchange"] = .object([
                        "peer": .string(exchange.peer.description),
                        "age_ms": .integer(Int64(clamping: now >= exchange.at ? now.milliseconds - exchange.at.milliseconds : 0)),
                        "segments_differing": .integer(Int64(exchange.segmentsDiffering)),
                        "agree": .bool(exchange.segmentsDiffering == 0),
                        "repaired": .integer(Int64(exchange.repaired)),
                        "exchanges": .integer(Int64(exchange.exchanges)),
                        "repaired_total": .integer(Int64(exchange.repairedTotal)),
                    ])
                }
                partitions.append(.object(entry))
            }
        }
        let hints: [JSONValue] = report.hints.sorted { $0.key < $1.key }.map { target, summary in
            var entry: [String: JSONValue] = [
                "target": .string(target.description), "count": .integer(Int64(summary.count)),
                "bytes": .integer(Int64(summary.bytes)),
            ]
            if let oldest = summary.oldest {
                let age = wallNow.millisecondsSince1970 > oldest.millisecondsSince1970
                    ? wallNow.millisecondsSince1970 - oldest.millisecondsSince1970 : 0
                entry["oldest_age_ms"] = .integer(Int64(clamping: age))
            }
            return .object(entry)
        }
        return .object(["node": .string(id.description), "partitions": .array(partitions), "hints": .array(hints)])
    }

    /// The status as the home instance sees membership, with `report` for the whole node.
    func statusJSON(_ report: Report) -> JSONValue {
        let now = clockNow()
        let stats = report.transfers.contains { $0.state != .done } ? store.partitionStats() : [:]
        let ring = self.ring
        var members: [JSONValue] = []
        let offsets = Dictionary(core.clockEstimates(now: now).map { ($0.peer, $0.sample) }, uniquingKeysWith: { $1 })
        for member in core.members {
            var entry: [String: JSONValue] = [
                "node": .string(member.id.description),
                "address": .string(member.address),
                "status": .string("\(member.status)"),
                "reachable": .bool(core.isReachable(member.id, now: now)),
                "self": .bool(member.id == id),
            ]
            if let ring { entry["partitions"] = .integer(Int64(ring.partitions(ownedBy: member.id).count)) }
            if let phi = core.phi(member.id, now: now), phi.isFinite { entry["phi"] = .number(phi) }
            if let sample = offsets[member.id] {
                entry["clock_offset_ms"] = .integer(sample.offset)
                entry["clock_round_trip_ms"] = .integer(Int64(clamping: sample.roundTrip))
            }
            members.append(.object(entry))
        }
        var status: [String: JSONValue] = [
            "node": .string(id.description),
            "cluster": .string(configuration.clusterName),
            "listen": .string(configuration.listenAddress),
            "http": .string(configuration.httpAddress),
            "members": .array(members),
            "cores": .integer(Int64(shard.count)),
            "hints_held": .integer(Int64(report.hintsHeld)),
            "requests_in_flight": .integer(Int64(report.requestsInFlight)),
            "pending_partitions": .array(report.pendingPartitions.map { .integer(Int64($0)) }),
            "transfers_done": .integer(Int64(report.transfers.filter { $0.state == .done }.count)),
            "transfers": .array(report.transfers.filter { $0.state != .done }.map {
                var transfer: [String: JSONValue] = [
                    "partition": .integer(Int64($0.transfer.partition)), "from": .string($0.transfer.source.description),
                    "to": .string($0.transfer.target.description), "state": .string($0.state.rawValue),
                    "sent_keys": .integer(Int64($0.keysSent)), "sent_bytes": .integer(Int64($0.bytesSent)),
                ]
                // What the partition holds here now: the transfer's size, for progress and ETA.
                if let held = stats[$0.transfer.partition] {
                    transfer["total_keys"] = .integer(Int64(held.keys))
                    transfer["total_bytes"] = .integer(Int64(held.liveBytes))
                }
                return .object(transfer)
            }),
        ]
        var ringJSON: [String: JSONValue] = [
            "partitions": .integer(Int64(configuration.partitions)),
            "n": .integer(Int64(configuration.replicas)),
            "r": .integer(Int64(configuration.readQuorum)),
            "w": .integer(Int64(configuration.writeQuorum)),
        ]
        if let versioned = core.cluster.ring {
            // The ring's Q, fixed when the cluster was made (a joiner's --partitions may differ).
            ringJSON["partitions"] = .integer(Int64(versioned.ring.partitionCount))
            ringJSON["version"] = .integer(Int64(clamping: versioned.version))
            ringJSON["members"] = .integer(Int64(versioned.ring.members.count))
            ringJSON["replicated_here"] = .integer(Int64((0..<versioned.ring.partitionCount).filter {
                versioned.ring.preferenceList(for: $0, n: configuration.replicas).contains(id)
            }.count))
        }
        status["ring"] = .object(ringJSON)
        status["handoff"] = .object(["paused": .bool(report.handoffPaused), "bytes_per_second": .integer(Int64(report.handoffBytesPerSecond))])
        status["antientropy"] = .object([
            "paused": .bool(report.antiEntropyPaused), "interval_ms": .integer(Int64(clamping: report.antiEntropyIntervalMilliseconds)),
        ])
        let correction = core.clockCorrectionMilliseconds
        status["clock"] = .object([
            "correction_ms": .integer(correction), "bound_ms": .integer(Int64(clamping: core.settings.clockBoundMilliseconds)),
            "probe_interval_ms": .integer(Int64(clamping: core.settings.clockProbeIntervalMilliseconds)),
        ])
        var warnings = self.warnings
        if core.clockIsOutOfRange(members: core.liveMemberCount) {
            warnings.append(
                "clock: most members' clocks are more than a day from this machine's; the cluster clock cannot follow them, so "
                    + "TTLs, hint ages and reaping are wrong here until its time is fixed (NTP)")
        } else if core.clockIsBeyondBound {
            let direction = correction > 0 ? "behind" : "ahead of"
            warnings.append(
                "clock: this machine's clock is \(Double(correction.magnitude) / 1_000) s \(direction) the cluster's median "
                    + "(bound \(core.settings.clockBoundMilliseconds) ms); TTLs, hint ages and reaping use the corrected time, "
                    + "but fix its time synchronisation (NTP)")
        }
        status["warnings"] = .array(warnings.map(JSONValue.string))
        return .object(status)
    }

    func healthReport() -> HealthReport {
        let joined = ring != nil
        let now = clockNow()
        let reachable = core.members.filter { core.isReachable($0.id, now: now) }.count
        let stopping = isStopping || shared.isStopping
        // A failed fsync is final for its engine: what it held since its last sync may be lost,
        // and it takes no more writes. Unhealthy, so a load balancer stops sending here and an
        // operator looks (docs/operations.md, "A failed fsync").
        let failures = store.failures()
        let failed = !failures.partitions.isEmpty || failures.commitLog
        return HealthReport(isHealthy: joined && !stopping && !failed, details: [
            "joined": .bool(joined),
            "stopping": .bool(stopping),
            "members": .integer(Int64(core.members.count)),
            "reachable": .integer(Int64(reachable)),
            "failed_partitions": .array(failures.partitions.map { .integer(Int64($0)) }),
            "commit_log_failed": .bool(failures.commitLog),
        ])
    }

    func updateGauges(_ report: Report) {
        let now = clockNow()
        metrics.members.record(core.members.count)
        metrics.membersReachable.record(core.members.filter { core.isReachable($0.id, now: now) }.count)
        metrics.partitionsHeld.record(store.partitions.count)
        metrics.hintsHeld.record(report.hintsHeld)
        let storage = store.totals()
        metrics.storageKeys.record(storage.keys)
        metrics.storageLiveBytes.record(storage.liveBytes)
        metrics.storageDeadBytes.record(storage.deadBytes)
        metrics.storageKeydirBytes.record(storage.keydirBytes)
        metrics.storageMerges.record(storage.merges)
        metrics.storageCorruptRecords.record(storage.corrupt)
        let failures = store.failures()
        metrics.storageFailed.record(failures.partitions.count + (failures.commitLog ? 1 : 0))
        metrics.handoffPaused.record(report.handoffPaused ? 1 : 0)
        metrics.antiEntropyPaused.record(report.antiEntropyPaused ? 1 : 0)
        metrics.antiEntropyInterval.record(Double(report.antiEntropyIntervalMilliseconds) / 1_000)
        metrics.handoffBytesPerSecond.record(report.handoffBytesPerSecond)
        metrics.transfersActive.record(report.transfers.filter { $0.state.isActive }.count)
        // Per partition and per target, where an operator looks for the one that lags. A
        // partition dropped or a target whose hints are all delivered reads 0, not its last value.
        let held = store.partitionStats()
        for partition in Set(held.keys).union(gaugedPartitions) {
            metrics.partition(NodeMetrics.partitionKeysLabel, partition).record(held[partition]?.keys ?? 0)
            metrics.partition(NodeMetrics.partitionBytesLabel, partition).record(held[partition]?.liveBytes ?? 0)
        }
        gaugedPartitions = Set(held.keys)
        // Exchanges of partitions this node no longer holds are not reported (their age would grow).
        let exchanged = report.exchanges.filter { held[$0.key] != nil }
        for (partition, exchange) in exchanged {
            metrics.partition(NodeMetrics.exchangeAgeLabel, partition)
                .record(Double(now >= exchange.at ? now.milliseconds - exchange.at.milliseconds : 0) / 1_000)
            metrics.partition(NodeMetrics.segmentsDifferingLabel, partition).record(exchange.segmentsDiffering)
        }
        for partition in gaugedExchanges.subtracting(exchanged.keys) {
            metrics.partition(NodeMetrics.exchangeAgeLabel, partition).record(0)
            metrics.partition(NodeMetrics.segmentsDifferingLabel, partition).record(0)
        }
        gaugedExchanges = Set(exchanged.keys)
        for target in Set(report.hints.keys).union(gaugedHintTargets) {
            metrics.hintsHeldFor(target).record(report.hints[target]?.count ?? 0)
        }
        gaugedHintTargets = Set(report.hints.keys)
        metrics.clockCorrection.record(Double(core.clockCorrectionMilliseconds) / 1_000)
        let estimates = core.clockEstimates(now: now)
        for (peer, sample) in estimates { metrics.clockOffset(peer).record(Double(sample.offset) / 1_000) }
        for peer in gaugedClockPeers.subtracting(estimates.map(\.peer)) { metrics.clockOffset(peer).record(0) }
        gaugedClockPeers = Set(estimates.map(\.peer))
    }
}
