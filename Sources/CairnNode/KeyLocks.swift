/// Serialises the CAS proposer's and acceptor's work on one key within the node's actor.
///
/// The actor is reentrant: while an acceptor's state of key K awaits its fsync, another Paxos
/// message for K may run. Replica writes of a key are ordered by the node core's own key gate
/// (`NodeCore`), not here; Paxos moves into the core in a later step.
struct KeyLocks {
    /// Which lock of a key: the CAS proposer's or the acceptor's, so a Paxos round never waits
    /// on the other role's work of the same key.
    enum Space: Hashable { case proposer, acceptor }

    struct Name: Hashable {
        var space: Space
        var key: [UInt8]
    }

    var waiters: [Name: [CheckedContinuation<Void, Never>]] = [:]
    var held: Set<Name> = []
}

extension Node {
    func lockKey(_ key: [UInt8], in space: KeyLocks.Space) async {
        let name = KeyLocks.Name(space: space, key: key)
        if keyLocks.held.insert(name).inserted { return }
        await withCheckedContinuation { keyLocks.waiters[name, default: []].append($0) }
    }

    /// Hands the lock to the next waiter, or frees it.
    func unlockKey(_ key: [UInt8], in space: KeyLocks.Space) {
        let name = KeyLocks.Name(space: space, key: key)
        if var queue = keyLocks.waiters[name], !queue.isEmpty {
            let next = queue.removeFirst()
            keyLocks.waiters[name] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            keyLocks.held.remove(name)
        }
    }

    /// Waits (at most 5 s) until no key is locked and the core has no storage work, for a
    /// clean shutdown.
    func drainStorage() async {
        for _ in 0..<500 where !keyLocks.held.isEmpty || !core.isIdle {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
