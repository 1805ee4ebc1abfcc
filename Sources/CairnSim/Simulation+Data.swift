import CairnCore

/// The data path of the node shell: client requests, the quorum coordinators' effects, and
/// what a replica does with a stored, replicated or repaired object.
extension Simulation {
    func ring(at node: Int) -> Ring? { nodes[node].membership.ring?.ring }

    func isReachable(from node: Int) -> (NodeID) -> Bool {
        let membership = nodes[node].membership
        let now = queue.now
        return { membership.isReachable($0, nowMilliseconds: now) }
    }

    func nodeIndex(_ id: NodeID) -> Int { Int(id.low) - 1 }

    func clientRequest(_ request: ClientRequest, at node: Int, client: Int, operation: UInt64) {
        guard let ring = ring(at: node) else {
            reply(to: client, operation: operation, .failed("node has no ring yet"))
            return
        }
        switch request {
        case .get(let key, let r):
            let hash = SimKeys.hash(key)
            let partition = ring.partition(for: hash)
            let machine = Quorum.ReadCoordinator<SimValue>(
                request: .init(
                    keyHash: hash, partition: partition, preferenceList: ring.preferenceList(for: partition, n: options.n),
                    extendedList: ring.extendedList(for: partition), r: r, n: options.n,
                    timeoutMilliseconds: requestTimeoutMilliseconds, repairWindowMilliseconds: 200),
                local: nodes[node].id)
            let id = nodes[node].nextRequest
            nodes[node].nextRequest += 1
            nodes[node].reads[id] = SimNode.ReadState(key: key, machine: machine, client: client, operation: operation)
            var state = nodes[node].reads[id]!
            let effects = state.machine.start(now: queue.now, isReachable: isReachable(from: node))
            nodes[node].reads[id] = state
            performRead(effects, node: node, request: id)
        case .put(let key, let value, let expiry, let context, let w):
            startWrite(key: key, sibling: .value(value, expiryMilliseconds: expiry), context: context, w: w,
                       at: node, ring: ring, origin: .client(client, operation: operation))
        case .delete(let key, let context, let w):
            startWrite(key: key, sibling: .tombstone, context: context, w: w,
                       at: node, ring: ring, origin: .client(client, operation: operation))
        case .cas(let key, let casOperation):
            startCAS(key: key, casOperation, at: node, client: client, operation: operation)
        }
    }

    func startWrite(key: Int, sibling: Sibling<SimValue>, context: CausalContext, w: Int, at node: Int, ring: Ring,
                    origin: SimNode.Origin) {
        let hash = SimKeys.hash(key)
        let partition = ring.partition(for: hash)
        let request = Quorum.WriteCoordinator<SimValue>.Request(
            keyHash: hash, partition: partition, preferenceList: ring.preferenceList(for: partition, n: options.n),
            extendedList: ring.extendedList(for: partition), context: context, sibling: sibling, w: w, n: options.n,
            timeoutMilliseconds: requestTimeoutMilliseconds)
        startWrite(key: key, request: request, at: node, origin: origin)
    }

    func startWrite(key: Int, request: Quorum.WriteCoordinator<SimValue>.Request, at node: Int, origin: SimNode.Origin) {
        let id = nodes[node].nextRequest
        nodes[node].nextRequest += 1
        var state = SimNode.WriteState(
            key: key, machine: Quorum.WriteCoordinator(request: request, local: nodes[node].id), origin: origin)
        let effects = state.machine.start(now: queue.now, isReachable: isReachable(from: node))
        nodes[node].writes[id] = state
        performWrite(effects, node: node, request: id)
    }

    func performWrite(_ effects: [Quorum.WriteCoordinator<SimValue>.Effect], node: Int, request: UInt64) {
        var pending = effects[...]
        while let effect = pending.popFirst() {
            guard let state = nodes[node].writes[request] else { return }
            switch effect {
            case .scheduleTimer(let timer, let deadline):
                queue.schedule(.writeTimer(node: node, generation: nodes[node].generation, request: request, timer), at: deadline)
            case .forward(let to, let forwarded):
                send(.forward(request: request, key: state.key, forwarded), from: node, to: nodeIndex(to))
            case .coordinateLocally(let context, let sibling, let hintFor):
                let more = coordinate(key: state.key, context: context, sibling: sibling, hintFor: hintFor, at: node,
                                      request: request)
                pending.append(contentsOf: more)
            case .replicate(let to, let object, let hintFor):
                let target = nodeIndex(to)
                nodes[node].writes[request]?.outstanding.insert(target)
                send(.replicate(request: request, key: state.key, object: object, hintFor: hintFor), from: node, to: target)
                queue.schedule(.replicateTimeout(node: node, generation: nodes[node].generation, request: request, target: target),
                               after: requestTimeoutMilliseconds / 2)
            case .storeHint(let owner, let object):
                storeHint(key: state.key, object: object, owner: owner, at: node)
            case .reply(let outcome):
                switch state.origin {
                case .client(let client, let operation):
                    switch outcome {
                    case .stored: reply(to: client, operation: operation, .stored)
                    case .failed(let failure): reply(to: client, operation: operation, .failed("\(failure.reason)"))
                    }
                case .forwarded(let from, let theirRequest):
                    send(.forwardOutcome(request: theirRequest, outcome), from: node, to: from)
                }
                nodes[node].writes[request]?.replied = true
            }
        }
        if let state = nodes[node].writes[request], state.replied, state.outstanding.isEmpty {
            nodes[node].writes[request] = nil
        }
    }

    /// A replica answered (or its timeout fired): ack or failure, once per replica.
    func replicaAnswered(_ target: Int, ok: Bool, node: Int, request: UInt64) {
        guard var state = nodes[node].writes[request], state.outstanding.remove(target) != nil else { return }
        let effects = ok ? state.machine.onAck(from: nodes[target].id, now: queue.now)
            : state.machine.onNack(from: nodes[target].id, now: queue.now)
        nodes[node].writes[request] = state
        performWrite(effects, node: node, request: request)
    }

    /// The coordinating replica mints the dot: update its own object with the client's
    /// context, store the result (as a hint when standing in for a primary), report it.
    func coordinate(key: Int, context: CausalContext, sibling: Sibling<SimValue>, hintFor: NodeID?, at node: Int,
                    request: UInt64) -> [Quorum.WriteCoordinator<SimValue>.Effect] {
        var object: SimObject
        var epoch: UInt64?
        if hintFor == nil {
            object = nodes[node].store[key]?.object ?? SimObject()
            epoch = nodes[node].store[key]?.mintEpoch
        } else {
            object = nodes[node].localObject(key) ?? SimObject()
            epoch = nodes[node].hintMintEpoch[key]
        }
        if epoch == nil {
            let (actor, lease) = nodes[node].mint.allocate()
            if let lease { nodes[node].mintLease = lease }
            epoch = actor.epoch
        }
        if options.broken == .fixedMintEpoch { epoch = UInt64(nodes[node].disksLost) << 40 }
        let actor = ReplicaActor(node: nodes[node].id, epoch: epoch!)
        do {
            try object.update(with: context, sibling, by: actor, siblingLimit: 64)
        } catch {
            return nodes[node].writes[request]!.machine.onCoordinationFailed(error, now: queue.now)
        }
        trace(key, "node \(node) coordinates \(sibling.content) with context \(context) hintFor \(String(describing: hintFor)) → \(Simulation.show(object))")
        if let hintFor {
            // The epoch is recorded only while the hint carrying its dots is still held (the
            // byte bound may drop it at once).
            if let hint = storeHint(key: key, object: object, owner: hintFor, at: node), nodes[node].hintRecords[hint] != nil {
                nodes[node].hintMintEpoch[key] = epoch
            }
        } else {
            storeReplica(key: key, object: object, at: node, mintEpoch: epoch)
        }
        return nodes[node].writes[request]!.machine.onCoordinated(object: object, now: queue.now)
    }

    /// Merges `object` into this node's copy of `key` (DVVSet sync) and keeps the Merkle tree
    /// current. In the broken last-writer-wins mode the arriving object replaces the copy.
    func storeReplica(key: Int, object: SimObject, at node: Int, mintEpoch: UInt64? = nil, replace: Bool = false) {
        let old = nodes[node].store[key]
        let merged: SimObject
        if replace {
            merged = object
        } else if options.broken == .lastWriterWins, old != nil, mintEpoch == nil {
            merged = object
        } else {
            merged = old.map { DVVSet.sync($0.object, object) } ?? object
        }
        if let old, old.object == merged, mintEpoch == nil || old.mintEpoch == mintEpoch { return }
        trace(key, "node \(node) stores \(Simulation.show(merged)) (was \(Simulation.show(old?.object)), got \(Simulation.show(object)))")
        nodes[node].store[key] = SimNode.Record(object: merged, mintEpoch: mintEpoch ?? old?.mintEpoch)
        guard let ring = ring(at: node) else { return }
        let hash = SimKeys.hash(key)
        let partition = ring.partition(for: hash)
        if nodes[node].trees[partition] != nil {
            nodes[node].trees[partition]!.update(
                hash, from: old.map { SimKeys.versionHash($0.object) }, to: SimKeys.versionHash(merged))
        }
    }

    func receive(_ message: SimMessage, at node: Int, from: Int) {
        switch message {
        case .membership(let message):
            let directives = nodes[node].membership.onMessage(message, nowMilliseconds: queue.now)
            performMembership(directives, node: node)
        case .read(let request, let key):
            send(.readReply(request: request, object: nodes[node].localObject(key)), from: node, to: from)
        case .readReply(let request, let object):
            guard var state = nodes[node].reads[request] else { return }
            let effects = state.machine.onReply(from: nodes[from].id, object: object, now: queue.now)
            nodes[node].reads[request] = state
            performRead(effects, node: node, request: request)
        case .replicate(let request, let key, let object, let hintFor):
            if let hintFor {
                storeHint(key: key, object: object, owner: hintFor, at: node)
            } else {
                storeReplica(key: key, object: object, at: node)
            }
            send(.replicateAck(request: request), from: node, to: from)
        case .replicateAck(let request):
            replicaAnswered(from, ok: true, node: node, request: request)
        case .forward(let request, let key, let forwarded):
            guard nodes[node].firstSighting(of: SimNode.ForwardID(from: from, request: request)) else { return }
            startWrite(key: key, request: forwarded, at: node, origin: .forwarded(from: from, request: request))
        case .forwardOutcome(let request, let outcome):
            guard var state = nodes[node].writes[request] else { return }
            let effects = state.machine.onForwardedOutcome(outcome, from: nodes[from].id, now: queue.now)
            nodes[node].writes[request] = state
            performWrite(effects, node: node, request: request)
        case .repair(let key, let object, let hintFor):
            if let hintFor {
                storeHint(key: key, object: object, owner: hintFor, at: node)
            } else {
                storeReplica(key: key, object: object, at: node)
            }
        case .hints(let batch, let objects):
            for item in objects { storeReplica(key: item.key, object: item.object, at: node) }
            send(.hintsAck(batch: batch), from: node, to: from)
        case .hintsAck(let batch):
            hintBatchDelivered(node, batch: batch)
        case .merkleRequest(let session, let partition, let level, let indices):
            answerMerkle(node, from: from, session: session, partition: partition, level: level, indices: indices)
        case .merkleReply(let session, let level, let hashes):
            continueExchange(node, session: session, level: level, hashes: hashes)
        case .exchangeObjects(let session, let partition, let segments, let objects):
            answerExchangeObjects(node, from: from, session: session, partition: partition, segments: segments, objects: objects)
        case .exchangeObjectsReply(let session, let objects):
            finishExchange(node, session: session, objects: objects)
        case .casRequest(let operation, let key, let casMessage):
            acceptorReceived(casMessage, key: key, operation: operation, at: node, from: from)
        case .casReply(let operation, let key, let casMessage):
            proposerReceived(casMessage, key: key, operation: operation, at: node, from: from)
        }
    }

    func performRead(_ effects: [Quorum.ReadCoordinator<SimValue>.Effect], node: Int, request: UInt64) {
        var pending = effects[...]
        while let effect = pending.popFirst() {
            guard let state = nodes[node].reads[request] else { return }
            switch effect {
            case .scheduleTimer(let timer, let deadline):
                queue.schedule(.readTimer(node: node, generation: nodes[node].generation, request: request, timer), at: deadline)
            case .read(let from):
                let target = nodeIndex(from)
                if target == node {
                    var machine = state.machine
                    let more = machine.onReply(from: from, object: nodes[node].localObject(state.key), now: queue.now)
                    nodes[node].reads[request]!.machine = machine
                    pending.append(contentsOf: more)
                } else {
                    send(.read(request: request, key: state.key), from: node, to: target)
                }
            case .reply(let outcome):
                switch outcome {
                case .found(let object): reply(to: state.client, operation: state.operation, .found(object))
                case .notFound: reply(to: state.client, operation: state.operation, .notFound)
                case .failed(let failure): reply(to: state.client, operation: state.operation, .failed("\(failure.reason)"))
                }
            case .repair(let to, let object, let hintFor):
                stats.readRepairs += 1
                let target = nodeIndex(to)
                if target == node {
                    if let hintFor { storeHint(key: state.key, object: object, owner: hintFor, at: node) }
                    else { storeReplica(key: state.key, object: object, at: node) }
                } else {
                    send(.repair(key: state.key, object: object, hintFor: hintFor), from: node, to: target)
                }
            }
        }
        if nodes[node].reads[request]?.machine.isFinished == true { nodes[node].reads[request] = nil }
    }
}
