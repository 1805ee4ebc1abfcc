/// Serialises read-modify-write of one key within the node's actor.
///
/// The actor is reentrant: while a write of key K awaits its fsync, another message for K may
/// run. Two coordinations of K that both read the old object would mint the same dot for
/// different writes, so every read-modify-write of a key takes its lock first. Different keys
/// proceed concurrently (and share fsyncs through group commit).
struct KeyLocks {
    var waiters: [[UInt8]: [CheckedContinuation<Void, Never>]] = [:]
    var held: Set<[UInt8]> = []
}

extension Node {
    func lockKey(_ key: [UInt8]) async {
        if keyLocks.held.insert(key).inserted { return }
        await withCheckedContinuation { keyLocks.waiters[key, default: []].append($0) }
    }

    /// Hands the lock to the next waiter, or frees it.
    func unlockKey(_ key: [UInt8]) {
        if var queue = keyLocks.waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            keyLocks.waiters[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            keyLocks.held.remove(key)
        }
    }

    /// Waits (at most 5 s) until no key is being written, for a clean shutdown.
    func drainKeyLocks() async {
        for _ in 0..<500 where !keyLocks.held.isEmpty {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
