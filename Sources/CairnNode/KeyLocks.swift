/// Serialises read-modify-write of one key within the node's actor.
///
/// The actor is reentrant: while a write of key K awaits its fsync, another message for K may
/// run. Two coordinations of K that both read the old object would mint the same dot for
/// different writes, so every read-modify-write of a key takes its lock first. Different keys
/// proceed concurrently (and share fsyncs through group commit).
struct KeyLocks {
    /// Which lock of a key: the store's read-modify-write, or the CAS proposer's and
    /// acceptor's own, so a Paxos round never waits on a replica write of the same key.
    enum Space: Hashable { case store, proposer, acceptor }

    struct Name: Hashable {
        var space: Space
        var key: [UInt8]
    }

    var waiters: [Name: [CheckedContinuation<Void, Never>]] = [:]
    var held: Set<Name> = []
}

extension Node {
    func lockKey(_ key: [UInt8], in space: KeyLocks.Space = .store) async {
        let name = KeyLocks.Name(space: space, key: key)
        if keyLocks.held.insert(name).inserted { return }
        await withCheckedContinuation { keyLocks.waiters[name, default: []].append($0) }
    }

    /// Hands the lock to the next waiter, or frees it.
    func unlockKey(_ key: [UInt8], in space: KeyLocks.Space = .store) {
        let name = KeyLocks.Name(space: space, key: key)
        if var queue = keyLocks.waiters[name], !queue.isEmpty {
            let next = queue.removeFirst()
            keyLocks.waiters[name] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            keyLocks.held.remove(name)
        }
    }

    /// Waits (at most 5 s) until no key is being written, for a clean shutdown.
    func drainKeyLocks() async {
        for _ in 0..<500 where !keyLocks.held.isEmpty {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
