import CairnCore
import CairnTransport
import CairnWire

/// Membership gossip, hint storage and delivery, and anti-entropy.
extension Node {
    // MARK: membership

    func performMembership(_ directives: [Membership.Directive]) {
        for directive in directives {
            switch directive {
            case .send(let address, let message):
                Task { try? await pool.send(.membership(message), to: address) }
            case .scheduleTick(let after):
                timers.schedule(.membership, at: monotonicNow() + after)
            case .ringChanged(let ring):
                persistMembership()
                if ring.ring.partitionCount != configuration.partitions {
                    logger.warning("the cluster's ring has another partition count than --partitions; the cluster's wins", metadata: [
                        "cairn.ring_partitions": "\(ring.ring.partitionCount)", "cairn.configured": "\(configuration.partitions)",
                    ])
                }
                planExchanges(ring.ring)
                ringMoved(from: previousRing, to: ring.ring)
                previousRing = ring.ring
                logger.info("ring changed", metadata: [
                    "cairn.ring_version": "\(ring.version)", "cairn.members": "\(ring.ring.members.count)",
                ])
            case .memberChanged(let member):
                persistMembership()
                logger.info("member changed", metadata: [
                    "cairn.member": "\(member.id)", "cairn.address": "\(member.address)", "cairn.status": "\(member.status)",
                ])
            case .reachabilityChanged(let node, let reachable):
                logger.notice("reachability changed", metadata: ["cairn.peer": "\(node)", "cairn.reachable": "\(reachable)"])
                if reachable { performHints(ledger.ownerReachable(node, now: wallNow())) }
            case .rejected(let from, let clusterName):
                logger.warning("ignored a message from another cluster", metadata: [
                    "cairn.peer": "\(from)", "cairn.their_cluster": "\(clusterName)",
                ])
            }
        }
    }

    func receiveMembership(_ message: Membership.Message) {
        performMembership(membership.onMessage(message, nowMilliseconds: monotonicNow()))
    }

    func persistMembership() {
        do {
            try files.saveMembership(membership.state, me: id, address: configuration.listenAddress)
        } catch {
            logger.error("persisting membership failed", metadata: ["error": "\(error)"])
        }
    }

    /// Every exchange interval: age hints, retry delivery to reachable owners, run an exchange.
    func maintenance() {
        reviewPending()
        let now = wallNow()
        performHints(ledger.tick(now: now))
        let owners = Set(ledger.pendingOwners)
        for owner in owners.sorted() where isReachable(owner) && !hintDeliveries.contains(owner) {
            performHints(ledger.ownerReachable(owner, now: now))
        }
        if !exchangeRunning, let next = nextExchange() {
            exchangeRunning = true
            Task {
                await self.exchange(partition: next.partition, with: next.peer)
                self.exchangeRunning = false
            }
        }
    }

    // MARK: hints

    /// Keeps a write for an unreachable primary: the durable record first, then the ledger's.
    /// Returns the hint's id.
    @discardableResult
    func storeHint(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>, owner: NodeID) async throws -> UInt64? {
        let effects = ledger.store(
            owner: owner, partition: partition, keyHash: ReplicaStore.keyHash(key), bytes: key.count + object.encode().count,
            now: wallNow())
        var rest: [HintLedger.Effect] = []
        var stored: UInt64?
        for effect in effects {
            if case .persist(let hint) = effect {
                // Known by key before the durable write, so a delivery or drop that races it
                // finds and clears it.
                hintKeys[key, default: []].insert(hint.id)
                do {
                    try await hintStore.put(HintStore.Entry(hint: hint, key: key, object: object))
                } catch {
                    hintKeys[key]?.remove(hint.id)
                    if hintKeys[key]?.isEmpty == true { hintKeys[key] = nil }
                    throw error
                }
                stored = hint.id
                metrics.hintsStored.increment()
            } else {
                rest.append(effect)
            }
        }
        performHints(rest)
        return stored
    }

    func performHints(_ effects: [HintLedger.Effect]) {
        for effect in effects {
            switch effect {
            case .persist(let hint):
                logger.error("unexpected hint persist outside store", metadata: ["cairn.hint": "\(hint.id)"])
            case .deliver(let owner, let hints):
                guard let address = address(of: owner) else {
                    ledger.deliveryFailed(owner: owner)
                    continue
                }
                let items: [HintItem] = hints.compactMap { hint in
                    (try? hintStore.get(hint.id)).flatMap { $0 }.map {
                        HintItem(partition: $0.hint.partition, key: $0.key, object: $0.object)
                    }
                }
                hintDeliveries.insert(owner)
                Task {
                    let reply = try? await pool.request(.hintBatch(items), to: address, timeout: .seconds(10))
                    self.hintDeliveries.remove(owner)
                    if case .ack? = reply {
                        let before = self.ledger.deliveredCount
                        self.performHints(self.ledger.delivered(owner: owner, now: self.wallNow()))
                        self.metrics.hintsDelivered.increment(by: self.ledger.deliveredCount - before)
                    } else {
                        self.ledger.deliveryFailed(owner: owner)
                    }
                }
            case .delete(let hintID):
                for (key, ids) in hintKeys where ids.contains(hintID) {
                    var remaining = ids
                    remaining.remove(hintID)
                    hintKeys[key] = remaining.isEmpty ? nil : remaining
                    // The chain of dots minted under the hint epoch is no longer whole here.
                    hintMintEpoch[key] = nil
                }
                Task { try? await hintStore.delete(hintID) }
            case .requestAntiEntropy(let partition, let owner, let reason):
                metrics.hintsDropped.increment()
                logger.warning("dropped a hint; asking for anti-entropy", metadata: [
                    "cairn.partition": "\(partition)", "cairn.owner": "\(owner)", "cairn.reason": "\(reason)",
                ])
                if let ring, ring.preferenceList(for: partition, n: configuration.replicas).contains(id), owner != id {
                    urgentExchanges.append((partition, owner))
                }
            }
        }
    }

    /// A batch of hints delivered to this node, their owner: merge each into the replica.
    func receiveHints(_ items: [HintItem]) async throws {
        for item in items {
            try await storeIncoming(key: item.key, partition: item.partition, object: item.object, hintFor: nil)
        }
    }

    // MARK: anti-entropy

    /// The round-robin of (partition, other primary) pairs this node exchanges with.
    func planExchanges(_ ring: Ring) {
        var plan: [(Int, NodeID)] = []
        for partition in 0..<ring.partitionCount {
            let replicas = ring.preferenceList(for: partition, n: configuration.replicas)
            guard replicas.contains(id) else { continue }
            for peer in replicas where peer != id { plan.append((partition, peer)) }
        }
        exchangePlan = plan
    }

    func nextExchange() -> (partition: Int, peer: NodeID)? {
        if !urgentExchanges.isEmpty { return urgentExchanges.removeFirst() }
        guard !exchangePlan.isEmpty else { return nil }
        for _ in 0..<exchangePlan.count {
            let next = exchangePlan.removeFirst()
            exchangePlan.append(next)
            if isReachable(next.peer) { return next }
        }
        return nil
    }

    /// One Merkle exchange of `partition` with `peer`: descend to the differing segments, pull
    /// the peer's objects there and merge them, push ours.
    func exchange(partition: Int, with peer: NodeID) async {
        guard let address = address(of: peer), let tree = try? store.tree(partition) else { return }
        var exchange = MerkleExchange(local: tree)
        var step = exchange.start()
        var segments: [Int] = []
        exchangeLoop: while true {
            switch step {
            case .request(let request):
                guard case .merkleHashes(let hashes)? = try? await pool.request(
                    .merkleHashesRequest(partition: partition, request), to: address, timeout: requestTimeout),
                    let next = try? exchange.receive(hashes)
                else { return }
                step = next
            case .done(let differing):
                segments = differing
                break exchangeLoop
            }
        }
        metrics.exchanges.increment()
        guard !segments.isEmpty else { return }
        var after: [UInt8]?
        var pulled = 0
        repeat {
            guard case .segmentObjects(let page)? = try? await pool.request(
                .segmentObjectsRequest(SegmentObjectsRequest(partition: partition, segments: segments, after: after)),
                to: address, timeout: requestTimeout)
            else { return }
            for item in page.items {
                if (try? await storeChanged(key: item.key, partition: partition, object: item.object)) == true { pulled += 1 }
            }
            after = page.next
        } while after != nil
        metrics.exchangeRepairs.increment(by: pulled)
        // Push: the peer merges what this node holds in those segments.
        guard let keys = try? store.keys(partition: partition, segments: Set(segments)) else { return }
        for key in keys {
            guard let record = try? store.read(key, partition: partition) else { continue }
            let message = WireMessage.readRepair(Replicate(key: key, partition: partition, object: record.object))
            try? await pool.send(message, to: address)
        }
    }

    func storeChanged(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>) async throws -> Bool {
        await lockKey(key)
        defer { unlockKey(key) }
        return try await store.merge(key, partition: partition, object: object)
    }

    /// The peer's side of an exchange: this node's objects in `segments`, a page at a time.
    func segmentObjects(_ request: SegmentObjectsRequest) throws -> SegmentObjects {
        try checkPartition(request.partition)
        let keys = try store.keys(partition: request.partition, segments: Set(request.segments))
            .filter { key in request.after.map { key.lexicographicallyPrecedes($0) == false && key != $0 } ?? true }
        let page = keys.prefix(256)
        var items: [KeyedObject] = []
        for key in page {
            if let record = try store.read(key, partition: request.partition) {
                items.append(KeyedObject(key: key, object: record.object))
            }
        }
        return SegmentObjects(items: items, next: keys.count > page.count ? page.last : nil)
    }
}
