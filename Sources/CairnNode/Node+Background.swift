import CairnCore
import CairnNodeCore
import CairnTransport
import CairnWire

/// Membership gossip, the maintenance tick (hints are the core's), and anti-entropy.
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
                if reachable { drive { core, view, _, wall in core.onPeerReachable(node, view: view, wallNow: wall) } }
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
        drive { core, view, now, wall in core.onMaintenance(view: view, now: now, wallNow: wall) }
        if !exchangeRunning, let next = nextExchange() {
            exchangeRunning = true
            Task {
                await self.exchange(partition: next.partition, with: next.peer)
                self.exchangeRunning = false
            }
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
        try await mergeLocally(key: key, partition: partition, object: object)
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
