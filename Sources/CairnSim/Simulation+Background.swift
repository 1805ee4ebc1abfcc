import CairnCore
import CairnNodeCore

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
                if reachable { drive(node) { core, view, _, wall in core.onPeerReachable(peer, view: view, wallNow: wall) } }
            case .rejected(let from, let name):
                violations.append("node \(node) rejected \(from) of cluster \(name)")
            }
        }
    }

    /// Every 100 ms: age out hints, retry delivery to reachable owners, start an exchange.
    func maintenanceTick(_ node: Int) {
        drive(node) { core, view, now, wall in core.onMaintenance(view: view, now: now, wallNow: wall) }
        startExchange(node)
        queue.schedule(.maintenanceTick(node: node, generation: nodes[node].generation), after: 100)
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
    func objectsIn(_ node: Int, partition: Int, segments: [Int]) -> [SimKeyedObject] {
        guard let ring = ring(at: node), let tree = nodes[node].trees[partition] else { return [] }
        let wanted = Set(segments)
        return nodes[node].store.keys.sorted().compactMap { key in
            let hash = SimKeys.hash(key)
            guard ring.partition(for: hash) == partition, wanted.contains(tree.segment(of: hash)) else { return nil }
            return SimKeyedObject(key: key, object: nodes[node].store[key]!.object)
        }
    }

    func answerExchangeObjects(_ node: Int, from: Int, session: UInt64, partition: Int, segments: [Int], objects: [SimKeyedObject]) {
        guard nodes[node].trees[partition] != nil else { return }
        mergeExchanged(objects, partition: partition, at: node)
        send(.exchangeObjectsReply(session: session, objectsIn(node, partition: partition, segments: segments)), from: node, to: from)
    }

    func finishExchange(_ node: Int, session: UInt64, objects: [SimKeyedObject]) {
        guard let state = nodes[node].exchanges.removeValue(forKey: session) else { return }
        mergeExchanged(objects, partition: state.partition, at: node)
    }

    /// Objects pulled by an exchange go into the replica through the core, in each key's order.
    func mergeExchanged(_ objects: [SimKeyedObject], partition: Int, at node: Int) {
        for item in objects where nodes[node].store[item.key]?.object != item.object {
            let token = nodes[node].newTicket()
            drive(node) { core, view, now, wall in
                core.onLocalMerge(token: token, key: SimKeys.bytes(item.key), partition: partition, object: item.object,
                                  view: view, now: now, wallNow: wall)
            }
        }
    }
}
