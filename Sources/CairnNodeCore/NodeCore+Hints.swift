import CairnCore

/// Hinted handoff on the node that holds hints: storing a write for an unreachable primary,
/// the index of hints by key (a fallback answers reads with them), handing them back once the
/// owner is reachable, and dropping them to keep the ledger's bounds.
extension NodeCore {
    /// Every maintenance interval: review pending partitions, age out hints, retry delivery to
    /// reachable owners, and start the next anti-entropy exchange unless one is running.
    mutating func maintenance(view: ClusterView, now: UInt64, wallNow: UInt64) -> [NodeCommand] {
        var commands = reviewPending(view: view, now: now)
        commands += performHints(ledger.tick(now: wallNow), view: view)
        for owner in ledger.pendingOwners where owner != id && view.isReachable(owner) && !deliveringTo.contains(owner) {
            commands += performHints(ledger.ownerReachable(owner, now: wallNow), view: view)
        }
        return commands + startExchange(view: view, now: now)
    }

    /// The failure detector says `peer` became reachable: hand its hints back now.
    mutating func deliverHints(to peer: NodeID, view: ClusterView, wallNow: UInt64) -> [NodeCommand] {
        guard !deliveringTo.contains(peer) else { return [] }
        return performHints(ledger.ownerReachable(peer, now: wallNow), view: view)
    }

    /// Registers a hint in the ledger and the key index before it is written (so a delivery
    /// or drop that races the write finds and clears it). The ledger's other effects (drops
    /// for the byte bound) are appended to `commands`.
    mutating func storeHint(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>, owner: NodeID, view: ClusterView,
                            wallNow: UInt64, commands: inout [NodeCommand]) -> HintLedger.Hint? {
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

    /// The hints of a delivery batch were read: send them to their owner.
    mutating func deliver(to owner: NodeID, read: StorageResult) -> [NodeCommand] {
        guard case .hints(let entries) = read else {
            deliveringTo.remove(owner)
            ledger.deliveryFailed(owner: owner)
            if case .failed(let failure) = read { return [.notice(.storageFailed(context: "reading hints to deliver", failure))] }
            return []
        }
        let items = entries.map { HintItem(partition: $0.hint.partition, key: $0.key, object: $0.object) }
        let call = newCall(.hints(owner: owner))
        return [.request(call: call, to: owner, .hintBatch(items), timeoutMilliseconds: settings.hintDeliveryTimeoutMilliseconds)]
    }
}
