import CairnCore
import CairnHTTP

/// What the node reports: cluster status, health, a local scan.
extension Node {
    func statusJSON() -> JSONValue {
        let now = monotonicNow()
        var members: [JSONValue] = []
        let ring = self.ring
        for member in membership.members {
            var entry: [String: JSONValue] = [
                "id": .string(member.id.description),
                "address": .string(member.address),
                "status": .string("\(member.status)"),
                "reachable": .bool(member.id == id || membership.isReachable(member.id, nowMilliseconds: now)),
                "self": .bool(member.id == id),
            ]
            if let ring { entry["partitions_owned"] = .integer(Int64(ring.partitions(ownedBy: member.id).count)) }
            if let phi = membership.phi(member.id, nowMilliseconds: now), phi.isFinite { entry["phi"] = .number(phi) }
            members.append(.object(entry))
        }
        var status: [String: JSONValue] = [
            "node": .string(id.description),
            "cluster": .string(configuration.clusterName),
            "listen": .string(configuration.listenAddress),
            "http": .string(configuration.httpAddress),
            "members": .array(members),
            "partitions": .integer(Int64(configuration.partitions)),
            "n": .integer(Int64(configuration.replicas)),
            "r": .integer(Int64(configuration.readQuorum)),
            "w": .integer(Int64(configuration.writeQuorum)),
            "hints_held": .integer(Int64(ledger.count)),
            "handoffs": .array([]),
        ]
        if let versioned = membership.ring {
            status["ring_version"] = .integer(Int64(versioned.version))
            status["ring_members"] = .integer(Int64(versioned.ring.members.count))
            let replicated = (0..<versioned.ring.partitionCount).filter {
                versioned.ring.preferenceList(for: $0, n: configuration.replicas).contains(id)
            }
            status["partitions_replicated_here"] = .integer(Int64(replicated.count))
        }
        return .object(status)
    }

    func healthReport() -> HealthReport {
        let joined = ring != nil
        let reachable = membership.members.filter { $0.id == id || membership.isReachable($0.id, nowMilliseconds: monotonicNow()) }.count
        return HealthReport(isHealthy: joined && !isStopping, details: [
            "joined": .bool(joined),
            "stopping": .bool(isStopping),
            "members": .integer(Int64(membership.members.count)),
            "reachable": .integer(Int64(reachable)),
        ])
    }

    func updateGauges() {
        let now = monotonicNow()
        metrics.members.record(membership.members.count)
        metrics.membersReachable.record(membership.members.filter { $0.id == id || membership.isReachable($0.id, nowMilliseconds: now) }.count)
        metrics.partitionsHeld.record(store.partitions.count)
        metrics.hintsHeld.record(ledger.count)
    }

    /// The keys with a live value among the partitions this node holds, in byte order. Not yet
    /// cluster-wide: a key is listed when this node holds a replica of it.
    func localScan(prefix: [UInt8], limit: Int, after: [UInt8]?) throws -> ScanPage {
        let now = wallNow()
        var keys: [[UInt8]] = []
        for partition in store.partitions {
            for key in try store.scan(partition: partition, prefix: prefix, after: after, limit: limit + 1) {
                guard let record = try store.read(key, partition: partition), !record.object.isDeleted(atMilliseconds: now) else { continue }
                keys.append(key)
            }
        }
        keys.sort { $0.lexicographicallyPrecedes($1) }
        let page = Array(keys.prefix(limit))
        return ScanPage(keys: page, nextAfter: keys.count > limit ? page.last : nil)
    }
}
