import CairnCore
import CairnHTTP
import CairnNodeCore
import CairnTransport
import CairnWire

/// The data path's entry points: client requests, each handed to the instance that owns its
/// key (scans to the home instance).
extension Node {
    /// A GET: the merged object of R replicas (`nil`: no replica has the key).
    func read(key: [UInt8], r: Int?) async throws -> DVVSet<[UInt8]>? {
        try await instance(forKey: key).read(key: key, r: r)
    }

    /// This node's own copy of `key` and whether it is one of the key's primaries.
    func replicaRead(key: [UInt8]) async throws -> (object: DVVSet<[UInt8]>?, isPrimary: Bool) {
        try await instance(forKey: key).replicaRead(key: key)
    }

    /// A PUT or DELETE: the context of the stored object once W replicas acknowledged.
    func write(key: [UInt8], sibling: Sibling<[UInt8]>, supersedes: Supersedes, w: Int?) async throws -> CausalContext {
        try await instance(forKey: key).write(key: key, sibling: sibling, supersedes: supersedes, w: w)
    }

    /// A page of a cluster-wide scan, coordinated by the home instance over every partition.
    func scan(prefix: [UInt8], limit: Int, after: [UInt8]?, values: Bool) async throws -> ScanPageResult {
        try await home.scan(prefix: prefix, limit: limit, after: after, values: values)
    }
}

/// The data path in one instance: client requests handed to its core, and the edge's view of
/// their failures.
extension NodeInstance {
    /// A client request waiting for the core's answer.
    struct WaitingRead {
        var continuation: CheckedContinuation<DVVSet<[UInt8]>?, any Error>
        var started: ContinuousClock.Instant
    }

    struct WaitingWrite {
        var continuation: CheckedContinuation<CausalContext, any Error>
        var kind: NodeMetrics.Operation
        var started: ContinuousClock.Instant
    }

    func currentRing() throws -> Ring {
        guard !isStopping && !shared.isStopping else { throw KeyValueServiceError(.unavailable, "the node is shutting down", retryAfterSeconds: 1) }
        guard !core.hasLeft else {
            throw KeyValueServiceError(.unavailable, "this node has left the cluster")
        }
        guard let ring else {
            throw KeyValueServiceError(.unavailable, "this node has not joined a cluster yet", retryAfterSeconds: 1)
        }
        return ring
    }

    /// A GET: the merged object of R replicas (`nil`: no replica has the key).
    func read(key: [UInt8], r: Int?) async throws -> DVVSet<[UInt8]>? {
        _ = try currentRing()
        metrics.requests(.get)
        let client = newTicket()
        return try await withCheckedThrowingContinuation { continuation in
            clientReads[client] = WaitingRead(continuation: continuation, started: .now)
            drive { core, now, wall in core.onClientRead(client: client, key: key, r: r, now: now, wallNow: wall) }
        }
    }

    /// This node's own copy of `key`: its record in the key's partition merged with the hints
    /// it holds for the key, read at once (no quorum, no repair), and whether this node is one
    /// of the key's primaries in its ring.
    func replicaRead(key: [UInt8]) throws -> (object: DVVSet<[UInt8]>?, isPrimary: Bool) {
        let ring = try currentRing()
        let partition = ring.partition(for: ReplicaStore.keyHash(key))
        let isPrimary = ring.preferenceList(for: partition, n: configuration.replicas).contains(id)
        metrics.requests(.get)
        let record = try store.partitions.contains(partition) ? store.read(key, partition: partition) : nil
        var hints: [DVVSet<[UInt8]>] = []
        for hint in core.hintIDs(key) {
            if let entry = try hintStore.get(hint) { hints.append(entry.object) }
        }
        return (NodeCore.merged(record?.object, hints), isPrimary)
    }

    /// A PUT or DELETE: the context of the stored object once W replicas acknowledged.
    func write(key: [UInt8], sibling: Sibling<[UInt8]>, supersedes: Supersedes, w: Int?) async throws -> CausalContext {
        _ = try currentRing()
        let kind: NodeMetrics.Operation = sibling.content == .tombstone ? .delete : .put
        metrics.requests(kind)
        let client = newTicket()
        return try await withCheckedThrowingContinuation { continuation in
            clientWrites[client] = WaitingWrite(continuation: continuation, kind: kind, started: .now)
            drive { core, now, wall in
                core.onClientWrite(client: client, key: key, sibling: sibling, supersedes: supersedes, w: w, now: now, wallNow: wall)
            }
        }
    }

    static func serviceError(_ failure: RequestFailure) -> KeyValueServiceError {
        switch failure {
        case .noRing:
            return KeyValueServiceError(.unavailable, "this node has not joined a cluster yet", retryAfterSeconds: 1)
        case .overloaded(let limit):
            return KeyValueServiceError(.unavailable, "\(limit) requests in flight on this node; retry", retryAfterSeconds: 1)
        case .quorum(let failure):
            return serviceError(failure)
        case .partitionUnavailable(let partition):
            return KeyValueServiceError(.unavailable, "no replica of partition \(partition) answered; retry", retryAfterSeconds: 1)
        }
    }

    /// A page of a cluster-wide scan (`NodeCore.onClientScan`).
    func scan(prefix: [UInt8], limit: Int, after: [UInt8]?, values: Bool) async throws -> ScanPageResult {
        _ = try currentRing()
        let client = newTicket()
        return try await withCheckedThrowingContinuation { continuation in
            clientScans[client] = continuation
            drive { core, now, wall in
                core.onClientScan(client: client, prefix: prefix, after: after, limit: limit, values: values, now: now, wallNow: wall)
            }
        }
    }

    static func serviceError(_ failure: Quorum.Failure) -> KeyValueServiceError {
        switch failure.reason {
        case .invalidQuorum(let required, let n):
            KeyValueServiceError(.quorumUnavailable, "quorum \(required) outside 1...\(n)", required: required, acknowledged: 0)
        case .tooFewReachable(let reachable, let required):
            KeyValueServiceError(.quorumUnavailable, "only \(reachable) replicas reachable, \(required) required",
                                 required: required, acknowledged: 0)
        case .timedOut(let received, let required):
            KeyValueServiceError(.timeout, "\(received) of \(required) replicas answered in time; a write may still take effect",
                                 required: required, acknowledged: received)
        case .tooFewSucceeded(let succeeded, let failed, let required):
            KeyValueServiceError(.quorumUnavailable, "\(succeeded) replicas stored it, \(failed) failed; \(required) required",
                                 required: required, acknowledged: succeeded)
        case .rejected(let error):
            if error.code == .siblingLimitExceeded {
                KeyValueServiceError.siblingLimitExceeded(limit: error.limit ?? 0)
            } else if error.code == .tooLarge {
                KeyValueServiceError.objectTooLarge(error.message, limit: error.limit)
            } else if error.code == .casManaged {
                KeyValueServiceError(.casManaged, "compare-and-set manages this key: write it with POST /v1/keys/{key}/cas")
            } else {
                KeyValueServiceError(.unavailable, "the write was refused: \(error.message)")
            }
        case .localStoreFailed(let message):
            KeyValueServiceError(.unavailable, "the coordinator could not store the write: \(message)")
        case .coordinatorNotTarget:
            KeyValueServiceError(.unavailable, "the nodes disagree on who is reachable; retry", retryAfterSeconds: 1)
        }
    }
}

