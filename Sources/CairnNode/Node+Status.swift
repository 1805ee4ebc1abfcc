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

        init(summing reports: [Report]) {
            for report in reports {
                hintsHeld += report.hintsHeld
                requestsInFlight += report.requestsInFlight
                pendingPartitions += report.pendingPartitions
                transfers += report.transfers
            }
            pendingPartitions.sort()
            transfers.sort { ($0.transfer.partition, $0.transfer.target) < ($1.transfer.partition, $1.transfer.target) }
        }

        init(hintsHeld: Int, requestsInFlight: Int, pendingPartitions: [Int], transfers: [NodeCore.TransferProgress]) {
            self.hintsHeld = hintsHeld
            self.requestsInFlight = requestsInFlight
            self.pendingPartitions = pendingPartitions
            self.transfers = transfers
        }
    }

    func report() -> Report {
        Report(hintsHeld: core.hintsHeld, requestsInFlight: core.requestsInFlight, pendingPartitions: core.pendingPartitions,
               transfers: core.transferProgress)
    }

    /// The status as the home instance sees membership, with `report` for the whole node.
    func statusJSON(_ report: Report) -> JSONValue {
        let now = clockNow()
        let ring = self.ring
        var members: [JSONValue] = []
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
                .object([
                    "partition": .integer(Int64($0.transfer.partition)), "from": .string($0.transfer.source.description),
                    "to": .string($0.transfer.target.description), "state": .string($0.state.rawValue),
                    "sent_keys": .integer(Int64($0.keysSent)), "sent_bytes": .integer(Int64($0.bytesSent)),
                ])
            }),
        ]
        var ringJSON: [String: JSONValue] = [
            "partitions": .integer(Int64(configuration.partitions)),
            "n": .integer(Int64(configuration.replicas)),
            "r": .integer(Int64(configuration.readQuorum)),
            "w": .integer(Int64(configuration.writeQuorum)),
        ]
        if let versioned = core.cluster.ring {
            ringJSON["version"] = .integer(Int64(clamping: versioned.version))
            ringJSON["members"] = .integer(Int64(versioned.ring.members.count))
            ringJSON["replicated_here"] = .integer(Int64((0..<versioned.ring.partitionCount).filter {
                versioned.ring.preferenceList(for: $0, n: configuration.replicas).contains(id)
            }.count))
        }
        status["ring"] = .object(ringJSON)
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
    }
}
