import CairnCore

/// The node shell's background work: membership gossip and failure detection, hint storage
/// and delivery, and Merkle-tree anti-entropy.
extension Simulation {
    // MARK: membership

    func membershipTick(_ node: Int) {
        let directives = nodes[node].membership.onTick(nowMilliseconds: queue.now, random: nodeRandom.next())
        performMembership(directives, node: node)
    }

    func performMembership(_ directives: [Membership.Directive], node: Int) {
        for directive in directives {
            switch directive {
            case .send(let address, let message):
                guard let to = SimNode.index(of: address), to < nodes.count else {
                    violations.append("node \(node) sent membership to unknown address \(address)")
                    continue
                }
                send(.membership(message), from: node, to: to)
            case .scheduleTick(let after):
                queue.schedule(.membershipTick(node: node, generation: nodes[node].generation), after: after)
            case .ringChanged(let ring):
                nodes[node].membershipState = nodes[node].membership.state
                rebuildTrees(node, ring: ring.ring)
            case .memberChanged:
                nodes[node].membershipState = nodes[node].membership.state
            case .reachabilityChanged(let peer, let reachable):
                if reachable { performHints(nodes[node].ledger.ownerReachable(peer, now: queue.now), node: node) }
            case .rejected(let from, let name):
                violations.append("node \(node) rejected \(from) of cluster \(name)")
            }
        }
    }

    /// Every 100 ms: age out hints, retry delivery to reachable owners, start an exchange.
    func maintenanceTick(_ node: Int) {
        performHints(nodes[node].ledger.tick(now: queue.now), node: node)
        let owners = Set(nodes[node].hintLog.values.map(\.owner))
        for owner in owners.sorted() where nodes[node].membership.isReachable(owner, nowMilliseconds: queue.now) {
            performHints(nodes[node].ledger.ownerReachable(owner, now: queue.now), node: node)
        }
        startExchange(node)
        queue.schedule(.maintenanceTick(node: node, generation: nodes[node].generation), after: 100)
    }

    // MARK: hints

    /// Keeps a write for an unreachable primary: durable record first, then the ledger entry.
    @discardableResult
    func storeHint(key: Int, object: SimObject, owner: NodeID, at node: Int) -> UInt64? {
        guard let ring = ring(at: node) else { return nil }
        stats.hintsStored += 1
        trace(key, "node \(node) stores hint for \(owner.low): \(Simulation.show(object))")
        let hash = SimKeys.hash(key)
        var persisted: [HintLedger.Effect] = []
        let effects = nodes[node].ledger.store(
            owner: owner, partition: ring.partition(for: hash), keyHash: hash, bytes: 64, now: queue.now)
        var stored: UInt64?
        for effect in effects {
            if case .persist(let hint) = effect {
                stored = hint.id
                nodes[node].hintLog[hint.id] = hint
                nodes[node].hintRecords[hint.id] = SimNode.HintRecord(key: key, object: object, owner: owner)
            } else {
                persisted.append(effect)
            }
        }
        performHints(persisted, node: node)
        return stored
    }

    func performHints(_ effects: [HintLedger.Effect], node: Int) {
        for effect in effects {
            switch effect {
            case .persist(let hint):
                // Only `store` persists, and it is handled there with the object.
                violations.append("node \(node): unexpected persist of hint \(hint.id)")
            case .deliver(let owner, let hints):
                let batch = nodes[node].nextRequest
                nodes[node].nextRequest += 1
                let objects = hints.compactMap { hint in
                    nodes[node].hintRecords[hint.id].map { KeyedObject(key: $0.key, object: $0.object) }
                }
                nodes[node].hintBatches[batch] = (owner, hints.map(\.id))
                send(.hints(batch: batch, objects), from: node, to: nodeIndex(owner))
                queue.schedule(.hintTimeout(node: node, generation: nodes[node].generation, batch: batch), after: 1_000)
            case .delete(let id):
                if let record = nodes[node].hintRecords.removeValue(forKey: id) {
                    // The chain of dots minted for this key under the hint epoch is no longer
                    // whole here: mint the next hinted write of the key under a fresh epoch.
                    nodes[node].hintMintEpoch[record.key] = nil
                }
                nodes[node].hintLog[id] = nil
            case .requestAntiEntropy(let partition, let owner, _):
                let peer = nodeIndex(owner)
                if let ring = ring(at: node), ring.preferenceList(for: partition, n: options.n).contains(nodes[node].id) {
                    nodes[node].urgentExchanges.append((partition, peer))
                } else {
                    // This node is no replica of the partition: ask a primary to exchange with the owner.
                    stats.hintsDroppedToExchange += 1
                }
            }
        }
    }

    func hintBatchDelivered(_ node: Int, batch: UInt64) {
        guard let (owner, _) = nodes[node].hintBatches.removeValue(forKey: batch) else { return }
        let before = nodes[node].ledger.deliveredCount
        let effects = nodes[node].ledger.delivered(owner: owner, now: queue.now)
        stats.hintsDelivered += nodes[node].ledger.deliveredCount - before
        performHints(effects, node: node)
    }

    func hintBatchTimedOut(_ node: Int, batch: UInt64) {
        guard let (owner, _) = nodes[node].hintBatches.removeValue(forKey: batch) else { return }
        nodes[node].ledger.deliveryFailed(owner: owner)
    }

    // MARK: anti-entropy

    /// Starts the next exchange of this node's plan (a round-robin over its partitions and
    /// their other primaries), one at a time.
    func startExchange(_ node: Int) {
        guard nodes[node].exchanges.isEmpty, let ring = ring(at: node) else { return }
        if nodes[node].exchangePlan.isEmpty && nodes[node].urgentExchanges.isEmpty {
            var plan: [(Int, Int)] = []
            for partition in 0..<ring.partitionCount {
                let replicas = ring.preferenceList(for: partition, n: options.n)
                guard replicas.contains(nodes[node].id) else { continue }
                for peer in replicas where peer != nodes[node].id { plan.append((partition, nodeIndex(peer))) }
            }
            nodes[node].exchangePlan = plan
        }
        guard !nodes[node].exchangePlan.isEmpty || !nodes[node].urgentExchanges.isEmpty else { return }
        let next = nodes[node].urgentExchanges.isEmpty ? nodes[node].exchangePlan.removeFirst()
            : nodes[node].urgentExchanges.removeFirst()
        guard nodes[node].membership.isReachable(nodes[next.peer].id, nowMilliseconds: queue.now),
              let tree = nodes[node].trees[next.partition] else { return }
        var exchange = MerkleExchange(local: tree)
        guard case .request(let request) = exchange.start() else { return }
        let session = nodes[node].nextRequest
        nodes[node].nextRequest += 1
        nodes[node].exchanges[session] = SimNode.ExchangeState(partition: next.partition, peer: next.peer, exchange: exchange)
        stats.exchanges += 1
        send(.merkleRequest(session: session, partition: next.partition, level: request.level, indices: request.indices),
             from: node, to: next.peer)
        queue.schedule(.exchangeTimeout(node: node, generation: nodes[node].generation, session: session), after: 1_000)
    }

    func answerMerkle(_ node: Int, from: Int, session: UInt64, partition: Int, level: Int, indices: [Int]) {
        guard let tree = nodes[node].trees[partition] else { return }
        guard level <= tree.levels, indices.allSatisfy({ $0 >= 0 && $0 < (1 << (tree.fanoutBits * level)) }) else {
            violations.append("node \(node): malformed Merkle request level \(level)")
            return
        }
        send(.merkleReply(session: session, level: level, hashes: tree.hashes(level: level, indices: indices)), from: node, to: from)
    }

    func continueExchange(_ node: Int, session: UInt64, level: Int, hashes: [UInt64]) {
        // A duplicated or late answer to an earlier level is dropped.
        guard var state = nodes[node].exchanges[session], state.exchange.pending?.level == level else { return }
        let step: MerkleExchange.Step
        do {
            step = try state.exchange.receive(hashes)
        } catch {
            violations.append("node \(node): Merkle exchange failed: \(error)")
            nodes[node].exchanges[session] = nil
            return
        }
        switch step {
        case .request(let request):
            nodes[node].exchanges[session] = state
            send(.merkleRequest(session: session, partition: state.partition, level: request.level, indices: request.indices),
                 from: node, to: state.peer)
        case .done(let segments):
            guard !segments.isEmpty else {
                nodes[node].exchanges[session] = nil
                return
            }
            nodes[node].exchanges[session] = state
            let objects = objectsIn(node, partition: state.partition, segments: segments)
            send(.exchangeObjects(session: session, partition: state.partition, segments: segments, objects),
                 from: node, to: state.peer)
        }
    }

    /// This node's objects of `partition` whose keys fall in `segments`.
    func objectsIn(_ node: Int, partition: Int, segments: [Int]) -> [KeyedObject] {
        guard let ring = ring(at: node), let tree = nodes[node].trees[partition] else { return [] }
        let wanted = Set(segments)
        return nodes[node].store.keys.sorted().compactMap { key in
            let hash = SimKeys.hash(key)
            guard ring.partition(for: hash) == partition, wanted.contains(tree.segment(of: hash)) else { return nil }
            return KeyedObject(key: key, object: nodes[node].store[key]!.object)
        }
    }

    func answerExchangeObjects(_ node: Int, from: Int, session: UInt64, partition: Int, segments: [Int], objects: [KeyedObject]) {
        guard nodes[node].trees[partition] != nil else { return }
        for item in objects where nodes[node].store[item.key]?.object != item.object {
            stats.repairedByExchange += 1
            storeReplica(key: item.key, object: item.object, at: node)
        }
        send(.exchangeObjectsReply(session: session, objectsIn(node, partition: partition, segments: segments)), from: node, to: from)
    }

    func finishExchange(_ node: Int, session: UInt64, objects: [KeyedObject]) {
        guard nodes[node].exchanges.removeValue(forKey: session) != nil else { return }
        for item in objects where nodes[node].store[item.key]?.object != item.object {
            stats.repairedByExchange += 1
            storeReplica(key: item.key, object: item.object, at: node)
        }
    }
}
