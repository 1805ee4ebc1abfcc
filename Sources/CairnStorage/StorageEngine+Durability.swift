#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
            // A rollover since the capture fsynced `file` under the lock and published its
            // ticket; the file may since be merged away (the reopen fails), which is no failure.
            if lock.withLock({ syncedTicket >= target && !file.isActive }) { return target }
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
        // Another thread's sync may have stamped a time later than `now`.
        let last = lock.withLock { lastSyncMilliseconds }
        let elapsed = now > last ? Int(clamping: now - last) : 0
        return max(1, interval - min(elapsed, interval))
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
