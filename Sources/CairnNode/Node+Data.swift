import CairnCore
import CairnHTTP
import CairnTransport
import CairnWire

/// The data path: client reads and writes through the quorum coordinators, and what a replica
/// does with objects it is sent.
extension Node {
    /// Where a write's answer goes: the HTTP client, or the node that forwarded it.
    enum WriteOrigin {
        case client(CheckedContinuation<CausalContext, any Error>)
        case forwarded(CheckedContinuation<WriteOutcome, Never>)
    }

    struct WriteState {
        var key: [UInt8]
        var partition: Int
        var machine: Quorum.WriteCoordinator<[UInt8]>
        /// Where the answer goes; `nil` once answered (the state lives on until every
        /// replica answered, so a late failure still leaves a hint).
        var origin: WriteOrigin?
        var started: ContinuousClock.Instant
        /// Replicas sent the object that have not answered yet (ack or failure).
        var outstanding: Set<NodeID> = []
        /// A local coordination (mint and store) is in progress.
        var coordinating = false

        /// Whether nothing more can happen: answered, no local coordination running, and every
        /// replica sent the object has answered (a late failure still leaves a hint).
        var isSettled: Bool { origin == nil && !coordinating && outstanding.isEmpty }

        func finish(_ result: Result<CausalContext, any Error>) {
            switch origin {
            case nil: return
            case .client(let continuation): continuation.resume(with: result)
            case .forwarded(let continuation):
                switch result {
                case .success(let context): continuation.resume(returning: .stored(context: context))
                case .failure(let error):
                    continuation.resume(returning: .failed(Quorum.Failure(
                        keyHash: machine.request.keyHash, reason: .localStoreFailed(message: "\(error)"))))
                }
            }
        }
    }

    struct ReadState {
        var key: [UInt8]
        var partition: Int
        var machine: Quorum.ReadCoordinator<[UInt8]>
        var continuation: CheckedContinuation<DVVSet<[UInt8]>?, any Error>?
        var started: ContinuousClock.Instant

        func finish(_ result: Result<DVVSet<[UInt8]>?, any Error>) {
            continuation?.resume(with: result)
        }
    }

    // MARK: client operations

    func currentRing() throws -> Ring {
        guard !isStopping else { throw KeyValueServiceError(.unavailable, "the node is shutting down", retryAfterSeconds: 1) }
        guard !membership.myself.status.isTombstone else {
            throw KeyValueServiceError(.unavailable, "this node has left the cluster")
        }
        guard let ring else {
            throw KeyValueServiceError(.unavailable, "this node has not joined a cluster yet", retryAfterSeconds: 1)
        }
        return ring
    }

    /// A GET: the merged object of R replicas (`nil`: no replica has the key).
    func read(key: [UInt8], r: Int?) async throws -> DVVSet<[UInt8]>? {
        let ring = try currentRing()
        let hash = ReplicaStore.keyHash(key)
        let partition = ring.partition(for: hash)
        let request = Quorum.ReadCoordinator<[UInt8]>.Request(
            keyHash: hash, partition: partition, preferenceList: ring.preferenceList(for: partition, n: configuration.replicas),
            extendedList: ring.extendedList(for: partition), r: r ?? configuration.readQuorum, n: configuration.replicas,
            timeoutMilliseconds: configuration.requestTimeoutMilliseconds, repairWindowMilliseconds: 500)
        let id = newRequestID()
        metrics.requests(.get)
        return try await withCheckedThrowingContinuation { continuation in
            var state = ReadState(
                key: key, partition: partition, machine: Quorum.ReadCoordinator(request: request, local: self.id),
                continuation: continuation, started: .now)
            let effects = state.machine.start(now: monotonicNow(), isReachable: reachability())
            reads[id] = state
            performRead(effects, request: id)
        }
    }

    /// A PUT or DELETE: the context of the stored object once W replicas acknowledged.
    func write(key: [UInt8], sibling: Sibling<[UInt8]>, context: CausalContext, w: Int?) async throws -> CausalContext {
        let ring = try currentRing()
        let request = writeRequest(ring: ring, key: key, context: context, sibling: sibling, w: w ?? configuration.writeQuorum)
        metrics.requests(sibling.content == .tombstone ? .delete : .put)
        return try await withCheckedThrowingContinuation { continuation in
            startWrite(key: key, request: request, origin: .client(continuation))
        }
    }

    func writeRequest(ring: Ring, key: [UInt8], context: CausalContext, sibling: Sibling<[UInt8]>, w: Int,
                      forwardedBy: NodeID? = nil) -> Quorum.WriteCoordinator<[UInt8]>.Request {
        let hash = ReplicaStore.keyHash(key)
        let partition = ring.partition(for: hash)
        return Quorum.WriteCoordinator<[UInt8]>.Request(
            keyHash: hash, partition: partition, preferenceList: ring.preferenceList(for: partition, n: configuration.replicas),
            extendedList: ring.extendedList(for: partition), context: context, sibling: sibling, w: w,
            n: configuration.replicas, timeoutMilliseconds: configuration.requestTimeoutMilliseconds, forwardedBy: forwardedBy)
    }

    /// A write another node forwarded here to coordinate (this node mints the dot).
    func coordinateForwarded(_ forwarded: ForwardedWrite) async -> WriteOutcome {
        guard let ring = try? currentRing() else {
            return .failed(Quorum.Failure(keyHash: ReplicaStore.keyHash(forwarded.key), reason: .localStoreFailed(message: "not serving")))
        }
        let request = writeRequest(
            ring: ring, key: forwarded.key, context: forwarded.context, sibling: forwarded.sibling,
            w: forwarded.w, forwardedBy: forwarded.forwardedBy)
        return await withCheckedContinuation { continuation in
            startWrite(key: forwarded.key, request: request, origin: .forwarded(continuation))
        }
    }

    func startWrite(key: [UInt8], request: Quorum.WriteCoordinator<[UInt8]>.Request, origin: WriteOrigin) {
        let id = newRequestID()
        var state = WriteState(
            key: key, partition: request.partition, machine: Quorum.WriteCoordinator(request: request, local: self.id),
            origin: origin, started: .now)
        let effects = state.machine.start(now: monotonicNow(), isReachable: reachability())
        writes[id] = state
        performWrite(effects, request: id)
    }

    // MARK: write effects

    func performWrite(_ effects: [Quorum.WriteCoordinator<[UInt8]>.Effect], request: UInt64) {
        for effect in effects {
            guard let state = writes[request] else { return }
            switch effect {
            case .scheduleTimer(let timer, let deadline):
                timers.schedule(.write(request, timer), at: deadline)
            case .forward(let to, let forwarded):
                guard let address = address(of: to) else { continue }
                let message = WireMessage.forwardedWrite(ForwardedWrite(
                    key: state.key, context: forwarded.context, sibling: forwarded.sibling, w: forwarded.w,
                    n: forwarded.n, timeoutMilliseconds: forwarded.timeoutMilliseconds, forwardedBy: id))
                Task {
                    guard case .writeOutcome(let outcome)? = try? await pool.request(message, to: address, timeout: requestTimeout) else { return }
                    self.forwardedOutcome(outcome, request: request, from: to)
                }
            case .coordinateLocally(let context, let sibling, let hintFor):
                writes[request]?.coordinating = true
                Task { await self.coordinateLocally(request: request, context: context, sibling: sibling, hintFor: hintFor) }
            case .replicate(let to, let object, let hintFor):
                guard let address = address(of: to) else {
                    replicateAnswered(request: request, from: to, ok: false)
                    continue
                }
                let message = WireMessage.replicate(Replicate(key: state.key, partition: state.partition, object: object, hintFor: hintFor))
                writes[request]?.outstanding.insert(to)
                Task {
                    let reply = try? await pool.request(message, to: address, timeout: requestTimeout)
                    if case .ack? = reply { self.replicateAnswered(request: request, from: to, ok: true) }
                    else { self.replicateAnswered(request: request, from: to, ok: false) }
                }
            case .storeHint(let owner, let object):
                let key = state.key
                let partition = state.partition
                Task {
                    do {
                        try await self.storeIncoming(key: key, partition: partition, object: object, hintFor: owner)
                    } catch {
                        self.logger.error("storing a hint failed", metadata: ["cairn.owner": "\(owner)", "error": "\(error)"])
                    }
                }
            case .reply(let outcome):
                writes[request]?.origin = nil
                metrics.latency(state.machine.request.sibling.content == .tombstone ? .delete : .put, since: state.started)
                switch outcome {
                case .stored(let context):
                    metrics.quorum(.success)
                    state.finish(.success(context))
                case .failed(let failure):
                    metrics.quorum(.failure)
                    if case .forwarded(let continuation)? = state.origin {
                        continuation.resume(returning: .failed(failure))
                    } else {
                        state.finish(.failure(Self.serviceError(failure)))
                    }
                }
            }
        }
        if writes[request]?.isSettled == true { writes[request] = nil }
    }

    func forwardedOutcome(_ outcome: WriteOutcome, request: UInt64, from: NodeID) {
        guard var state = writes[request] else { return }
        let effects = state.machine.onForwardedOutcome(outcome, from: from, now: monotonicNow())
        writes[request] = state
        performWrite(effects, request: request)
    }

    func replicateAnswered(request: UInt64, from: NodeID, ok: Bool) {
        guard var state = writes[request] else { return }
        state.outstanding.remove(from)
        let now = monotonicNow()
        let effects = ok ? state.machine.onAck(from: from, now: now) : state.machine.onNack(from: from, now: now)
        writes[request] = state
        performWrite(effects, request: request)
    }

    /// The coordinating replica mints the dot (DESIGN.md §2): its own object, updated with the
    /// client's context under this node's mint epoch for the key, stored durably (as a hint
    /// when standing in for a primary), then replicated by the machine.
    func coordinateLocally(request: UInt64, context: CausalContext, sibling: Sibling<[UInt8]>, hintFor: NodeID?) async {
        guard let state = writes[request] else { return }
        let key = state.key
        let partition = state.partition
        await lockKey(key)
        defer {
            unlockKey(key)
            writes[request]?.coordinating = false
            if writes[request]?.isSettled == true { writes[request] = nil }
        }
        // The client may have been answered (timeout) while this waited for the key: then
        // nothing is stored, rather than a write only this node would ever hold.
        guard writes[request]?.machine.isDecided == false else { return }
        do {
            let previous = try store.read(key, partition: partition)
            var object: DVVSet<[UInt8]>
            var epoch: UInt64?
            if hintFor == nil {
                object = previous?.object ?? DVVSet()
                epoch = previous?.mintEpoch
            } else {
                object = try localObject(key, partition: partition) ?? DVVSet()
                epoch = hintMintEpoch[key]
            }
            if epoch == nil {
                let before = mint
                let (actor, lease) = mint.allocate()
                if let lease {
                    do { try files.saveMintLease(lease) } catch {
                        mint = before  // never hand out epochs beyond the persisted lease
                        throw error
                    }
                }
                epoch = actor.epoch
            }
            do {
                try object.update(with: context, sibling, by: ReplicaActor(node: id, epoch: epoch!), siblingLimit: configuration.siblingLimit)
            } catch {
                feedWrite(request) { $0.onCoordinationFailed(error, now: $1) }
                return
            }
            if let hintFor {
                let hint = try await storeHint(key: key, partition: partition, object: object, owner: hintFor)
                // Record the epoch only while the hint that carries its dots is still here (it
                // may have been delivered, or dropped for the byte bound, during the store).
                if let hint, hintKeys[key]?.contains(hint) == true { hintMintEpoch[key] = epoch }
            } else {
                try await store.write(key, partition: partition, record: .init(object: object, mintEpoch: epoch), previous: previous)
                forwardDuringRingChange(key: key, partition: partition, object: object)
            }
            feedWrite(request) { $0.onCoordinated(object: object, now: $1) }
        } catch {
            logger.error("storing a coordinated write failed", metadata: ["cairn.partition": "\(partition)", "error": "\(error)"])
            feedWrite(request) { $0.onLocalStoreFailed(message: "\(error)", now: $1) }
        }
    }

    func feedWrite(_ request: UInt64, _ event: (inout Quorum.WriteCoordinator<[UInt8]>, UInt64) -> [Quorum.WriteCoordinator<[UInt8]>.Effect]) {
        guard var state = writes[request] else { return }
        let effects = event(&state.machine, monotonicNow())
        writes[request] = state
        performWrite(effects, request: request)
    }

    // MARK: read effects

    func performRead(_ effects: [Quorum.ReadCoordinator<[UInt8]>.Effect], request: UInt64) {
        for effect in effects {
            guard let state = reads[request] else { return }
            switch effect {
            case .scheduleTimer(let timer, let deadline):
                timers.schedule(.read(request, timer), at: deadline)
            case .read(let from):
                if from == id {
                    guard !isPending(state.partition) else {
                        feedRead(request) { $0.onReadFailed(from: from, now: $1) }
                        continue
                    }
                    do {
                        let object = try localObject(state.key, partition: state.partition)
                        feedRead(request) { $0.onReply(from: from, object: object, now: $1) }
                    } catch {
                        logger.error("local read failed", metadata: ["cairn.partition": "\(state.partition)", "error": "\(error)"])
                        feedRead(request) { $0.onReadFailed(from: from, now: $1) }
                    }
                    continue
                }
                guard let address = address(of: from) else {
                    feedRead(request) { $0.onReadFailed(from: from, now: $1) }
                    continue
                }
                let message = WireMessage.read(ReadRequest(key: state.key, partition: state.partition))
                Task {
                    let reply = try? await pool.request(message, to: address, timeout: requestTimeout)
                    switch reply {
                    case .readReply(.found(let object))?: self.feedRead(request) { $0.onReply(from: from, object: object, now: $1) }
                    case .readReply(.notFound)?: self.feedRead(request) { $0.onReply(from: from, object: nil, now: $1) }
                    default: self.feedRead(request) { $0.onReadFailed(from: from, now: $1) }
                    }
                }
            case .reply(let outcome):
                metrics.latency(.get, since: state.started)
                switch outcome {
                case .found(let object):
                    metrics.quorum(.success)
                    state.finish(.success(object))
                case .notFound:
                    metrics.quorum(.success)
                    state.finish(.success(nil))
                case .failed(let failure):
                    metrics.quorum(.failure)
                    state.finish(.failure(Self.serviceError(failure)))
                }
                reads[request]?.continuation = nil
            case .repair(let to, let object, let hintFor):
                metrics.readRepairs.increment()
                let key = state.key
                let partition = state.partition
                if to == id {
                    Task { try? await self.storeIncoming(key: key, partition: partition, object: object, hintFor: hintFor) }
                } else if let address = address(of: to) {
                    let message = WireMessage.readRepair(Replicate(key: key, partition: partition, object: object, hintFor: hintFor))
                    Task { try? await pool.send(message, to: address) }
                }
            }
        }
        if reads[request]?.machine.isFinished == true { reads[request] = nil }
    }

    func feedRead(_ request: UInt64, _ event: (inout Quorum.ReadCoordinator<[UInt8]>, UInt64) -> [Quorum.ReadCoordinator<[UInt8]>.Effect]) {
        guard var state = reads[request] else { return }
        let effects = event(&state.machine, monotonicNow())
        reads[request] = state
        performRead(effects, request: request)
    }

    // MARK: replica side

    /// What this node holds for `key`: its replica merged with any hints it keeps for the key.
    func localObject(_ key: [UInt8], partition: Int) throws -> DVVSet<[UInt8]>? {
        var merged = try store.read(key, partition: partition)?.object
        for hint in hintKeys[key] ?? [] {
            guard let entry = try hintStore.get(hint) else { continue }
            merged = merged.map { DVVSet.sync($0, entry.object) } ?? entry.object
        }
        return merged
    }

    /// Stores an object another node sent (replication, repair, hint delivery, exchange):
    /// merged into the replica, or kept as a hint for `hintFor`.
    func storeIncoming(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>, hintFor: NodeID?) async throws {
        try checkPartition(partition)
        await lockKey(key)
        defer { unlockKey(key) }
        if let hintFor {
            try await storeHint(key: key, partition: partition, object: object, owner: hintFor)
        } else if try await store.merge(key, partition: partition, object: object) {
            forwardDuringRingChange(key: key, partition: partition, object: object)
        }
    }

    /// Writes during a ring change go to old and new replicas both (DESIGN.md §3): a write this
    /// node stores for a partition it is sending to a gained replica, or for a partition it no
    /// longer replicates (the coordinator still used the old ring), is passed on to them, so a
    /// write landing behind a transfer's cursor still reaches the new replica.
    func forwardDuringRingChange(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>) {
        guard let ring else { return }
        var targets = Set(transfers.values.filter { $0.transfer.partition == partition && $0.state.isActive }.map(\.transfer.target))
        let replicas = ring.preferenceList(for: partition, n: configuration.replicas)
        if !replicas.contains(id) { targets.formUnion(replicas) }
        targets.remove(id)
        for target in targets.sorted() {
            guard let address = address(of: target) else { continue }
            let message = WireMessage.readRepair(Replicate(key: key, partition: partition, object: object))
            Task { try? await pool.send(message, to: address) }
        }
    }

    /// A partition number from a peer must exist in this node's ring (the cluster's Q).
    func checkPartition(_ partition: Int) throws {
        guard let ring, partition >= 0, partition < ring.partitionCount else {
            throw PartitionError(partition: partition, partitionCount: ring?.partitionCount)
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

struct PartitionError: Error, CustomStringConvertible {
    var partition: Int
    var partitionCount: Int?
    var description: String {
        "partition \(partition) is not in this node's ring (\(partitionCount.map { "Q = \($0)" } ?? "no ring yet"))"
    }
}
