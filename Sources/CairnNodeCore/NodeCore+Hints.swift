import CairnCore

/// Hinted handoff on the node that holds hints: storing a write for an unreachable primary,
/// the index of hints by key (a fallback answers reads with them), handing them back once the
/// owner is reachable, and dropping them to keep the ledger's bounds.
extension NodeCore {
    /// The failure detector says `peer` became reachable: hand its hints back now.
    mutating func deliverHints(to peer: NodeID, view: ClusterView, wallNow: WallClockTime) -> [NodeCommand] {
        guard !deliveringTo.contains(peer) else { return [] }
        return performHints(ledger.ownerReachable(peer, now: wallNow), view: view)
    }

    /// Registers a hint in the ledger and the key index before it is written (so a delivery
    /// or drop that races the write finds and clears it). The ledger's other effects (drops
    /// for the byte bound) are appended to `commands`.
    mutating func storeHint(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>, owner: NodeID, view: ClusterView,
                            wallNow: WallClockTime, commands: inout [NodeCommand]) -> HintLedger.Hint? {
        let bytes = key.count + object.encode().count
        var stored: HintLedger.Hint?
        var rest: [HintLedger.Effect] = []
        for effect in ledger.store(owner: owner, partition: partition, keyHash: keyHash(key), bytes: bytes, now: wallNow) {
            if case .persist(let hint) = effect {
                stored = hint
                hintKeys[key, default: []].insert(hint.id)
                hintKeyOf[hint.id] = key
            } else {
                rest.append(effect)
            }
        }
        commands += performHints(rest, view: view)
        return stored
    }

    /// Forgets a hint in the key index (delivered, dropped, or its write failed).
    mutating func forgetHint(_ hint: UInt64, key: [UInt8]) {
        hintKeyOf[hint] = nil
        guard var ids = hintKeys[key] else { return }
        ids.remove(hint)
        hintKeys[key] = ids.isEmpty ? nil : ids
        // The chain of dots minted under the hint epoch is no longer whole here: the next
        // hinted write of the key is minted under a fresh epoch.
        hintMintEpoch[key] = nil
    }

    mutating func performHints(_ effects: [HintLedger.Effect], view: ClusterView) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        for effect in effects {
            switch effect {
            case .persist:
                break  // only `store` persists, and `storeHint` handles it with the object
            case .deliver(let owner, let hints):
                deliveringTo.insert(owner)
                let operation = newOperation(.hintsForDelivery(owner: owner))
                commands.append(.storage(operation: operation, .readHints(hints.map(\.id))))
            case .delete(let hint):
                if let key = hintKeyOf[hint] { forgetHint(hint, key: key) }
                commands.append(.deleteHint(hint))
            case .requestAntiEntropy(let partition, let owner, let reason):
                wantExchange(partition: partition, with: owner, view: view)
                commands.append(.notice(.hintDropped(partition: partition, owner: owner, reason: reason)))
            }
        }
        return commands
    }

    /// The hints of a delivery batch were read: send them to their owner, or, for hints
    /// whose owner no longer replicates their partition (it left, was removed, or the ring
    /// moved), to the partition's current first reachable primary — a hint is a copy of an
    /// acknowledged write, and only delivery to a replica that keeps it may delete it.
    mutating func deliver(to owner: NodeID, read: StorageResult, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard case .hints(let entries) = read else {
            deliveringTo.remove(owner)
            ledger.deliveryFailed(owner: owner)
            if case .failed(let failure) = read { return [.notice(.storageFailed(context: "reading hints to deliver", failure))] }
            return []
        }
        // One request per target and partition: the receiver hands each to the instance that
        // owns the partition (`ShardRouter`).
        var byTarget: [HintDestination: [HintItem]] = [:]
        for entry in entries {
            let item = HintItem(partition: entry.hint.partition, key: entry.key, object: entry.object)
            let target = hintTarget(owner: owner, partition: entry.hint.partition, view: view)
            byTarget[HintDestination(target: target, partition: entry.hint.partition), default: []].append(item)
        }
        guard !byTarget.isEmpty else {
            // None of the batch is on disk any more: nothing to hand back.
            return deliveryPartDone(newDelivery(owner: owner, parts: 1), ok: true, view: view, wallNow: wallNow)
        }
        let delivery = newDelivery(owner: owner, parts: byTarget.count)
        var commands: [NodeCommand] = []
        for (destination, items) in byTarget.sorted(by: { ($0.key.target, $0.key.partition) < ($1.key.target, $1.key.partition) }) {
            let target = destination.target
            if target == id {
                // This node replicates the partition now: merge the hints here.
                let group = newNumber()
                groups[group] = Group(done: .delivery(delivery), remaining: items.count)
                for item in items {
                    commands += enter(item.key, .store(key: item.key, partition: item.partition, object: item.object, hintFor: nil,
                                                       then: .group(group)), view: view, now: now, wallNow: wallNow)
                }
            } else {
                let call = newCall(.hints(delivery: delivery))
                commands.append(.request(call: call, to: target, .hintBatch(items),
                                         timeoutMilliseconds: settings.hintDeliveryTimeoutMilliseconds))
            }
        }
        return commands
    }

    /// Where a hint goes: its owner while the owner replicates the partition, else the
    /// partition's first reachable primary (this node included). A node that is leaving or has
    /// left hands a hint whose owner is unreachable to a reachable primary as well: once it is
    /// gone no reaper asks it for its copies, so a hint kept there could bring back a key the
    /// primaries reaped in the meantime.
    func hintTarget(owner: NodeID, partition: Int, view: ClusterView) -> NodeID {
        guard let ring = view.ring, partition >= 0, partition < ring.partitionCount else { return owner }
        let primaries = ring.preferenceList(for: partition, n: settings.replicas)
        if isDeparting {
            // Never itself: its own copies are on their way out. With no other primary
            // reachable the hint waits for the next attempt.
            if primaries.contains(owner), !isGone(owner), view.isReachable(owner) { return owner }
            return primaries.first { $0 != id && view.isReachable($0) } ?? owner
        }
        if primaries.contains(owner), !isGone(owner) { return owner }
        return primaries.first { view.isReachable($0) } ?? primaries.first ?? owner
    }

    /// Whether this node is leaving the cluster or has left it.
    var isDeparting: Bool {
        guard let status = cluster.members[id]?.status else { return false }
        return status == .leaving || status.isTombstone
    }

    mutating func newDelivery(owner: NodeID, parts: Int) -> UInt64 {
        let number = newNumber()
        deliveries[number] = Delivery(owner: owner, remaining: parts)
        return number
    }

    /// One part of a hint delivery answered: once every part is stored, the ledger deletes
    /// the batch; one failed part keeps the whole batch for the next attempt.
    mutating func deliveryPartDone(_ number: UInt64, ok: Bool, view: ClusterView, wallNow: WallClockTime) -> [NodeCommand] {
        guard var delivery = deliveries[number] else { return [] }
        delivery.remaining -= 1
        if !ok { delivery.failed = true }
        guard delivery.remaining == 0 else {
            deliveries[number] = delivery
            return []
        }
        deliveries[number] = nil
        deliveringTo.remove(delivery.owner)
        guard !delivery.failed else {
            ledger.deliveryFailed(owner: delivery.owner)
            return []
        }
        let before = ledger.deliveredCount
        let effects = ledger.delivered(owner: delivery.owner, now: wallNow)
        return [.notice(.hintsDelivered(count: ledger.deliveredCount - before))] + performHints(effects, view: view)
    }
}

/// Where a part of a hint delivery goes: a node, and the partition its items belong to.
struct HintDestination: Hashable {
    var target: NodeID
    var partition: Int
}
