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
/// fsync could start; on two cores that herd cost as much as the fsync itself.
///
/// After a failed fsync every waiter and every later write gets the error; the fsync is never
/// retried (after EIO the kernel may have dropped the dirty pages, so a second fsync could
/// report success for lost data).
final class GroupCommit: @unchecked Sendable {
    private final class Follower {
        let ticket: UInt64
        /// Set (under the lock) when the leader hands this follower the next round.
        var leads = false
        var semaphore = sem_t()
        init(ticket: UInt64) {
            self.ticket = ticket
            sem_init(&semaphore, 0, 0)
        }
        deinit { sem_destroy(&semaphore) }
        func wake() { sem_post(&semaphore) }
        func sleep() { while sem_wait(&semaphore) != 0 && errno == EINTR {} }
    }

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var durable: UInt64 = 0
    private var syncing = false
    private var failure: StorageError?
    private var followers: [Follower] = []
    private(set) var rounds = 0
    /// Gathering: the most followers seen queued at once lately, the last fsync's duration,
    /// and whether a leader is waiting for followers to queue.
    private var peakQueued = 0
    private var peakWindow = 0
    private var lastSyncNanoseconds: UInt64 = 0
    private var gathering = false

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
            return try lead(ticket: ticket, engine: engine)
        }
        let me = Follower(ticket: ticket)
        followers.append(me)
        peakWindow = max(peakWindow, followers.count)
        if gathering && followers.count >= peakQueued { lock.signalSecondary() }
        lock.unlock()
        me.sleep()
        // Woken: covered, failed, or handed the lead.
        let (leads, failed) = lock.withLock { (me.leads, failure) }
        if let failed { throw failed }
        if leads { try lead(ticket: ticket, engine: engine) }
    }

    /// Runs one round as leader (`syncing` is set on our behalf), then passes the lead on.
    private func lead(ticket: UInt64, engine: StorageEngine) throws {
        lock.lock()
        if peakQueued > 0 && followers.count < peakQueued {
            // Give the writers the last round released a moment to queue again.
            let budget = min(500, Int(lastSyncNanoseconds / 2_000))
            let deadline = ConditionLock.deadline(microsecondsFromNow: budget)
            let stop = ConditionLock.nowNanoseconds() + UInt64(budget) * 1000
            gathering = true
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
            if !followers.isEmpty {
                next = followers.removeFirst()
                next?.leads = true
            }
        }
        syncing = next != nil
        let outcome = failure
        lock.unlock()
        next?.wake()
        for follower in woken { follower.wake() }
        if let outcome { throw outcome }
    }

    func markDurable(upTo ticket: UInt64) {
        var woken: [Follower] = []
        lock.withLock {
            guard ticket > durable else { return }
            durable = ticket
            woken = followers.filter { $0.ticket <= durable }
            followers.removeAll { $0.ticket <= durable }
        }
        for follower in woken { follower.wake() }
    }

    var roundCount: Int { lock.withLock { rounds } }
}

extension StorageEngine {
    /// fsyncs the active file; returns the write ticket now durable. A failure is final: the
    /// engine refuses every later write.
    @discardableResult
    func syncActive() throws -> UInt64 {
        let (file, target): (DataFile, UInt64) = try lock.withLock {
            if let failure { throw failure }
            if isClosed { throw StorageError(.closed, "engine is closed", path: directory) }
            return (active, writeTicket)
        }
        do {
            try runtime.descriptors.withDescriptor(file) { try FileIO.dataSync($0, file.path) }
        } catch let error as StorageError {
            let failed = StorageError(.syncFailed,
                "fsync failed; the engine no longer accepts writes (\(error.message))", path: file.path, errno: error.errno)
            lock.withLock { if failure == nil { failure = failed } }
            logger.critical("fsync failed; refusing further writes", metadata: ["cairn.storage.file": "\(file.path)"])
            throw failed
        }
        lock.withLock {
            syncedTicket = max(syncedTicket, target)
            lastSyncMilliseconds = options.clock.nowMilliseconds()
        }
        return target
    }

    /// Called by the runtime's sync thread: runs the `interval` policy. Returns how many ms
    /// until this engine next wants a call, or nil if it never does.
    func backgroundSyncIfDue() -> Int? {
        guard case .interval(let interval) = options.durability else { return nil }
        let now = options.clock.nowMilliseconds()
        let (due, dirty) = lock.withLock { () -> (Bool, Bool) in
            guard !isClosed, failure == nil else { return (false, false) }
            return (now >= lastSyncMilliseconds + UInt64(interval), writeTicket > syncedTicket)
        }
        if due && dirty {
            if let ticket = try? syncActive() { commit.markDurable(upTo: ticket) }
            return interval
        }
        if due { lock.withLock { lastSyncMilliseconds = now } }
        let elapsed = Int(now &- lock.withLock { lastSyncMilliseconds })
        return max(1, interval - max(0, elapsed))
    }

    /// Makes room in the active file for a record of `size` bytes: rolls over when the file is
    /// full, reserves disk blocks ahead in steps. Caller holds `lock`.
    func ensureSpace(forRecordOf size: Int) throws {
        if active.length + size > options.maxFileSizeBytes && active.length > 0 {
            try rollOver()
        }
        let file = active!
        let needed = file.length + size
        if needed > file.allocatedLength {
            let step = 2 << 20
            let target = min(file.mappedLength, max(needed, file.allocatedLength + step))
            precondition(needed <= file.mappedLength, "record of \(size) bytes past the mapping of \(file.path)")
            try runtime.descriptors.withDescriptor(file) { try FileIO.allocate($0, file.path, upTo: target) }
            file.allocatedLength = target
        }
    }

    /// Seals the active file (trims its reserved tail, fsyncs unless durability is `none`) and
    /// starts a new one. Caller holds `lock`.
    func rollOver() throws {
        let old = active!
        do {
            try runtime.descriptors.withDescriptor(old) { fd in
                try FileIO.truncate(fd, old.path, to: old.length)
                old.allocatedLength = old.length
                if options.durability != .none { try FileIO.dataSync(fd, old.path) }
            }
            old.isActive = false
            runtime.descriptors.evict(old)
            try startActiveFile()
        } catch let error as StorageError where error.code == .syncFailed {
            // Like a failed group-commit fsync: final, never retried.
            if failure == nil { failure = error }
            logger.critical("fsync failed at rollover; refusing further writes", metadata: ["cairn.storage.file": "\(old.path)"])
            throw error
        }
        if options.durability != .none {
            syncedTicket = writeTicket
            commit.markDurable(upTo: writeTicket)
        }
        if options.hintsOnRollover {
            filesWantingHints.append(old.id)
            runtime.nudgeMerge()
        }
    }

    /// Creates a new, empty active file. Caller holds `lock` (or is recovering).
    func startActiveFile() throws {
        let id = nextFileId
        nextFileId += 1
        let path = directory + "/" + DataFile.name(id: id)
        let fd = try FileIO.open(path, O_RDWR | O_CREAT | O_EXCL)
        defer { Glibc.close(fd) }
        let file = try DataFile(activeId: id, path: path, length: 0,
            mappedLength: options.maxFileSizeBytes + options.maxRecordBytes, fd: fd)
        if options.durability != .none { try FileIO.syncDirectory(directory) }
        files[id] = file
        active = file
    }
}
