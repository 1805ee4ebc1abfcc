#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Group commit for `Durability.always`.
///
/// Each write takes a ticket (its position in the engine's write order) and waits until the
/// durable ticket passes it. A writer that finds no fsync running becomes the *leader*: it
/// fsyncs (which covers every record appended before the call) and publishes what it covered.
/// Writers that arrive meanwhile queue as followers and share the next fsync, so N writers
/// cost about one fsync per round instead of N.
///
/// Followers sleep on a semaphore each, not on a shared condition: at the end of a round the
/// leader first hands leadership to the oldest follower still uncovered (who starts the next
/// fsync at once), then wakes exactly the followers it covered, who return without touching
/// the lock. A broadcast would wake every follower to fight for the mutex before the next
/// fsync could start; on two cores that herd cost as much as the fsync itself. Woken
/// followers come back with their next write a few microseconds apart, and a leader that
/// fsynced at once would catch only the first of them, leaving rounds that alternate between
/// two halves of the writers; so a leader first waits (at most half the last fsync, at most
/// 500 µs) until as many followers are queued as were seen queued lately.
///
/// Async writers (`waitDurable(ticket:engine:) async`) queue a continuation instead of a
/// thread: they suspend without holding a thread, and a committer thread (started on first
/// use) leads the rounds whose oldest uncovered follower is async. A node serving thousands
/// of writes from a few event-loop threads therefore parks no thread per write.
///
/// After a failed fsync every waiter and every later write gets the error; the fsync is never
/// retried (after EIO the kernel may have dropped the dirty pages, so a second fsync could
/// report success for lost data).
final class GroupCommit: @unchecked Sendable {
    private final class Follower {
        let ticket: UInt64
        /// Set (under the lock) when the leader hands this (thread) follower the next round.
        var leads = false
        private var semaphore = sem_t()
        private let continuation: CheckedContinuation<Void, any Error>?

        init(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>? = nil) {
            self.ticket = ticket
            self.continuation = continuation
            sem_init(&semaphore, 0, 0)
        }

        deinit { sem_destroy(&semaphore) }

        var isAsync: Bool { continuation != nil }

        /// Wakes a thread follower, or resumes an async one (with `failure` if there is one).
        func wake(failure: StorageError?) {
            if let continuation {
                if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
            } else {
                sem_post(&semaphore)
            }
        }

        func sleep() { while sem_wait(&semaphore) != 0 && errno == EINTR {} }
    }

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var durable: UInt64 = 0
    private var syncing = false
    private var failure: StorageError?
    private var followers: [Follower] = []
    private(set) var rounds = 0
    /// Time spent in fsync and in gathering followers, summed over rounds (for stats).
    private var syncNanoseconds: UInt64 = 0
    private var gatherNanoseconds: UInt64 = 0
    /// Gathering: the most followers seen queued at once lately, the last fsync's duration,
    /// and whether a leader is waiting for followers to queue.
    private var peakQueued = 0
    private var peakWindow = 0
    private var lastSyncNanoseconds: UInt64 = 0
    private var gathering = false
    /// The committer thread: started on the first async wait, told to lead by `committerLeads`
    /// (signalled on the lock's primary condition), stopped by `stop()`.
    private var committerStarted = false
    private var committerLeads = false
    private var stopped = false

    // MARK: waiting

    /// Blocks the calling thread until `ticket` is durable.
    func waitDurable(ticket: UInt64, engine: StorageEngine) throws {
        lock.lock()
        if durable >= ticket {
            lock.unlock()
            return
        }
        if let failure {
            lock.unlock()
            throw failure
        }
        if !syncing {
            syncing = true
            lock.unlock()
            return try lead(engine: engine)
        }
        let me = Follower(ticket: ticket)
        enqueue(me)
        lock.unlock()
        me.sleep()
        // Woken: covered, failed, or handed the lead.
        let (leads, failed) = lock.withLock { (me.leads, failure) }
        if let failed { throw failed }
        if leads { try lead(engine: engine) }
    }

    /// Suspends the calling task, holding no thread, until `ticket` is durable.
    func waitDurable(ticket: UInt64, engine: StorageEngine) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            lock.lock()
            if durable >= ticket {
                lock.unlock()
                continuation.resume()
                return
            }
            if let failure {
                lock.unlock()
                continuation.resume(throwing: failure)
                return
            }
            enqueue(Follower(ticket: ticket, continuation: continuation))
            if !committerStarted {
                committerStarted = true
                startCommitter(engine: engine)
            }
            if !syncing {
                syncing = true
                committerLeads = true
                lock.broadcast()
            }
            lock.unlock()
        }
    }

    /// Queues a follower; caller holds `lock`.
    private func enqueue(_ follower: Follower) {
        followers.append(follower)
        peakWindow = max(peakWindow, followers.count)
        if gathering && followers.count >= peakQueued { lock.signalSecondary() }
    }

    // MARK: leading

    /// Runs one round as leader (`syncing` is set on our behalf), then passes the lead on.
    /// Throws the round's failure, if any (the leader's own write is covered otherwise).
    private func lead(engine: StorageEngine) throws {
        lock.lock()
        if peakQueued > 0 && followers.count < peakQueued {
            // Give the writers the last round released a moment to queue again.
            let budget = min(500, Int(lastSyncNanoseconds / 2_000))
            let deadline = ConditionLock.deadline(microsecondsFromNow: budget)
            let stop = ConditionLock.nowNanoseconds() + UInt64(budget) * 1000
            gathering = true
            let gatherStarted = ConditionLock.nowNanoseconds()
            defer { gatherNanoseconds += ConditionLock.nowNanoseconds() - gatherStarted }
            while followers.count < peakQueued && ConditionLock.nowNanoseconds() < stop { lock.waitSecondary(until: deadline) }
            gathering = false
        }
        lock.unlock()
        let started = ConditionLock.nowNanoseconds()
        let result = Result { try engine.syncActive() }
        let took = ConditionLock.nowNanoseconds() - started
        lock.lock()
        rounds += 1
        lastSyncNanoseconds = took
        syncNanoseconds += took
        if rounds % 64 == 0 {
            peakQueued = peakWindow
            peakWindow = 0
        } else {
            peakQueued = max(peakQueued, peakWindow)
        }
        switch result {
        case .success(let synced): durable = max(durable, synced)
        case .failure(let error): failure = (error as? StorageError) ?? StorageError(.syncFailed, "\(error)")
        }
        var woken: [Follower] = []
        var next: Follower?
        if failure != nil {
            woken = followers
            followers = []
        } else {
            woken = followers.filter { $0.ticket <= durable }
            followers.removeAll { $0.ticket <= durable }
            if let oldest = followers.first {
                if oldest.isAsync {
                    committerLeads = true
                    lock.broadcast()
                } else {
                    followers.removeFirst()
                    oldest.leads = true
                    next = oldest
                }
            }
        }
        syncing = next != nil || committerLeads
        let outcome = failure
        lock.unlock()
        next?.wake(failure: nil)
        for follower in woken { follower.wake(failure: outcome) }
        if let outcome { throw outcome }
    }

    private func startCommitter(engine: StorageEngine) {
        startThread { [self, weak engine] in
            while true {
                lock.lock()
                while !committerLeads && !stopped { lock.wait() }
                if !committerLeads {
                    lock.unlock()
                    return
                }
                committerLeads = false
                lock.unlock()
                guard let engine else {
                    failAll(StorageError(.closed, "engine was released with writes waiting"))
                    return
                }
                try? lead(engine: engine)
            }
        }
    }

    private func failAll(_ error: StorageError) {
        let waiting: [Follower] = lock.withLock {
            if failure == nil { failure = error }
            defer { followers = [] }
            return followers
        }
        for follower in waiting { follower.wake(failure: error) }
    }

    // MARK: other sources of durability

    /// Publishes `ticket` as durable (after a rollover or an explicit sync fsynced it).
    func markDurable(upTo ticket: UInt64) {
        var woken: [Follower] = []
        lock.withLock {
            guard ticket > durable else { return }
            durable = ticket
            woken = followers.filter { $0.ticket <= durable }
            followers.removeAll { $0.ticket <= durable }
        }
        for follower in woken { follower.wake(failure: nil) }
    }

    /// Stops the committer thread once it has no round to lead (the engine is closing).
    func stop() {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
    }

    /// Rounds so far, and the time they spent in fsync and in gathering, in nanoseconds.
    var totals: (rounds: Int, sync: UInt64, gather: UInt64) { lock.withLock { (rounds, syncNanoseconds, gatherNanoseconds) } }
}
