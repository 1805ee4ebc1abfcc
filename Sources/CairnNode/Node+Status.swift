import CairnCore
import CairnHTTP
import CairnNodeCore

/// What the node reports: cluster status, health, a local scan.
extension Node {
    /// `GET /v1/cluster` (docs/api.md): members with this node's view of their liveness, the
    /// ring, and the handoff transfers this node is sending.
    func statusJSON() -> JSONValue {
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
            "hints_held": .integer(Int64(core.hintsHeld)),
            "requests_in_flight": .integer(Int64(core.requestsInFlight)),
            "pending_partitions": .array(core.pendingPartitions.map { .integer(Int64($0)) }),
            "transfers_done": .integer(Int64(core.transferProgress.filter { $0.state == .done }.count)),
            "transfers": .array(core.transferProgress.filter { $0.state != .done }.map {
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
            ringJSON["version"] = .integer(Int64(versioned.version))
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
        return HealthReport(isHealthy: joined && !isStopping, details: [
            "joined": .bool(joined),
            "stopping": .bool(isStopping),
            "members": .integer(Int64(core.members.count)),
            "reachable": .integer(Int64(reachable)),
        ])
    }

    func updateGauges() {
        let now = clockNow()
        metrics.members.record(core.members.count)
        metrics.membersReachable.record(core.members.filter { core.isReachable($0.id, now: now) }.count)
        metrics.partitionsHeld.record(store.partitions.count)
        metrics.hintsHeld.record(core.hintsHeld)
        let storage = store.totals()
        metrics.storageKeys.record(storage.keys)
        metrics.storageLiveBytes.record(storage.liveBytes)
        metrics.storageDeadBytes.record(storage.deadBytes)
        metrics.storageKeydirBytes.record(storage.keydirBytes)
        metrics.storageMerges.record(storage.merges)
        metrics.storageCorruptRecords.record(storage.corrupt)
    }
}
