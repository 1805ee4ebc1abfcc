import Logging

/// A write-ahead log shared by many engines (a node's partitions), so that one fsync makes the
/// writes of all of them durable (docs/storage-engine.md, "The commit log").
///
/// Without it every partition is its own engine with its own group commit, and concurrent writes
/// to different partitions each pay their own fsync. With it a write goes to its engine without
/// waiting (the engines run with a long `interval` durability) and to the log, whose group
/// commit waits for the write: all writes in flight on the node share each fsync. Cassandra's
/// commit log plays this part in front of its memtables.
///
/// The log is a series of *segments*, each a `StorageEngine` of its own (`DIR/<number>/`) keyed
/// by an 8-byte big-endian sequence number, so a segment lists its entries in the order they were
/// logged. A checkpoint thread starts a new segment once the active one is older than the
/// checkpoint interval (or larger than the segment size), fsyncs every engine through the
/// owner's `sync` (everything a sealed segment holds has been applied to its engine before it
/// was logged), and then removes the sealed segments. An idle log has an empty segment and
/// does nothing.
///
/// At open, whatever segments a crash left are read back as `recovered`; the owner applies them
/// in order to its engines, syncs those, and calls `finishRecovery()`, which removes them. A
/// `dropped` entry voids what was logged for its store before it (the store's files were
/// removed), so a crash after a removal never brings the removed data back.
///
/// Order of a write: apply to the engine first, then log it. A checkpoint that seals the
/// segment holding the entry has then certainly synced the engine with it.
public final class CommitLog: @unchecked Sendable {
    public enum Entry: Sendable, Equatable {
        case put(store: Int, key: [UInt8], value: [UInt8])
        case delete(store: Int, key: [UInt8])
        /// Everything logged for `store` before this is void: the store was removed.
        case dropped(store: Int)
    }

    public let directory: String
    let segmentOptions: StorageOptions
    let segmentBytes: Int
    let checkpointMilliseconds: UInt64
    let logger: Logger
    let lock = ConditionLock()
    // Guarded by `lock`.
    private var active: StorageEngine
    private var activeNumber: UInt64
    private var activeStarted: UInt64
    private var activeEntries = 0
    private var activeBytes = 0
    private var sealed: [(number: UInt64, engine: StorageEngine)] = []
    private var nextSequence: UInt64 = 1
    private var checkpointerStarted = false
    private var stopped = false
    private var checkpointRunning = false
    /// Segments found at open, removed by `finishRecovery()`.
    private var recoveredSegments: [(number: UInt64, engine: StorageEngine)] = []
    private(set) var checkpoints = 0

    /// What the log held at open, in the order it was logged.
    public private(set) var recovered: [Entry] = []

    /// Opens the log in `directory` (creating it), reading back what an earlier run left, and
    /// starts a new active segment. `maxValueBytes` bounds an entry's value.
    public init(directory: String, maxKeyBytes: Int, maxValueBytes: Int, segmentBytes: Int = 64 << 20,
                checkpointMilliseconds: UInt64 = 2_000, logger: Logger) throws {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.checkpointMilliseconds = checkpointMilliseconds
        self.logger = logger
        var options = StorageOptions(durability: .always)
        options.maxKeyBytes = 8
        options.maxValueBytes = maxValueBytes + maxKeyBytes + 16
        options.maxFileSizeBytes = max(segmentBytes, options.maxRecordBytes * 2)
        segmentOptions = options
        try FileIO.makeDirectory(directory)
        try DurableFiles.removeLeftovers(in: directory)
        var found: [(number: UInt64, engine: StorageEngine)] = []
        var entries: [Entry] = []
        var highest: UInt64 = 0
        var lastSequence: UInt64 = 0
        for name in try FileIO.listDirectory(directory).sorted() {
            guard let number = UInt64(name) else { continue }
            let engine = try StorageEngine(directory: "\(directory)/\(name)", options: options, logger: logger)
            found.append((number, engine))
            highest = max(highest, number)
        }
        found.sort { $0.number < $1.number }
        for (_, engine) in found {
            for key in try engine.scan(prefix: [], limit: Int.max) {
                guard key.count == 8, let bytes = try engine.get(key) else { continue }
                lastSequence = max(lastSequence, key.reduce(0) { $0 << 8 | UInt64($1) })
                guard let entry = Self.decode(bytes) else {
                    logger.error("skipping an undecodable commit log entry", metadata: ["cairn.storage.dir": "\(engine.directory)"])
                    continue
                }
                entries.append(entry)
            }
        }
        recovered = entries
        recoveredSegments = found
        nextSequence = lastSequence + 1
        activeNumber = highest + 1
        active = try StorageEngine(directory: "\(directory)/\(Self.name(activeNumber))", options: options, logger: logger)
        activeStarted = options.clock.nowMilliseconds()
    }

    static func name(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// Removes the segments found at open; call once their entries are applied and synced.
    public func finishRecovery() throws {
        let segments = lock.withLock { () -> [(number: UInt64, engine: StorageEngine)] in
            defer { recoveredSegments = [] }
            return recoveredSegments
        }
        recovered = []
        for (number, engine) in segments {
            try engine.close()
            try DurableFiles.removeDirectory("\(directory)/\(Self.name(number))")
        }
    }

    // MARK: writing

    /// Logs `entry` (after it was applied to its engine); the returned write waits for the
    /// fsync that makes it durable, shared with every other write logged meanwhile.
    public func append(_ entry: Entry) throws -> StorageEngine.PendingWrite {
        let value = Self.encode(entry)
        lock.lock()
        defer { lock.unlock() }
        if stopped { throw StorageError(.closed, "the commit log is closed", path: directory) }
        let sequence = nextSequence
        let key: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (8 * (7 - $0))) }
        let pending = try active.appendPut(key, value)
        nextSequence += 1
        activeEntries += 1
        activeBytes += value.count + 40
        // The checkpointer sleeps without a deadline while the segment is empty: the first entry
        // starts its clock, a full segment is due at once.
        if activeEntries == 1 || activeBytes >= segmentBytes { lock.broadcast() }
        return pending
    }

    /// Fsync rounds of the active segment so far (for tests and stats).
    var roundsOfActiveSegment: Int { lock.withLock { active }.commit.totals.rounds }

    /// Whether the log failed for good (an fsync error): every later write fails.
    public var hasFailed: Bool { lock.withLock { active }.hasFailed }

    // MARK: checkpoints

    /// Starts the checkpoint thread: `sync` must make every engine's applied writes durable.
    public func startCheckpoints(sync: @escaping @Sendable () throws -> Void) {
        let start = lock.withLock {
            defer { checkpointerStarted = true }
            return !checkpointerStarted
        }
        guard start else { return }
        startThread { [self] in
            while true {
                lock.lock()
                while !stopped && !checkpointDue() {
                    if activeEntries == 0 {
                        lock.wait()
                    } else {
                        let elapsed = segmentOptions.clock.nowMilliseconds() &- activeStarted
                        let left = checkpointMilliseconds > elapsed ? checkpointMilliseconds - elapsed : 1
                        lock.wait(milliseconds: Int(min(left, 60_000)))
                    }
                }
                if stopped {
                    lock.unlock()
                    return
                }
                lock.unlock()
                do {
                    try checkpoint(sync: sync)
                } catch {
                    logger.error("commit log checkpoint failed; keeping its segments", metadata: ["error": "\(error)"])
                    // Retry after a pause rather than spin on a failing disk.
                    lock.withLock { lock.wait(milliseconds: 1_000) }
                }
            }
        }
    }

    /// Caller holds `lock`.
    private func checkpointDue() -> Bool {
        guard activeEntries > 0 else { return false }
        if activeBytes >= segmentBytes { return true }
        return segmentOptions.clock.nowMilliseconds() &- activeStarted >= checkpointMilliseconds
    }

    /// Seals the active segment (a new one takes the writes), syncs every engine through
    /// `sync`, and removes the sealed segments.
    public func checkpoint(sync: () throws -> Void) throws {
        let claimed = lock.withLock { () -> Bool in
            guard !checkpointRunning, !stopped else { return false }
            checkpointRunning = true
            return true
        }
        guard claimed else { return }
        defer {
            lock.withLock {
                checkpointRunning = false
                lock.broadcast()
            }
        }
        let next = try lock.withLock { () -> StorageEngine? in
            guard activeEntries > 0, !stopped else { return nil }
            return try StorageEngine(directory: "\(directory)/\(Self.name(activeNumber + 1))", options: segmentOptions, logger: logger)
        }
        if let next {
            lock.withLock {
                sealed.append((activeNumber, active))
                active = next
                activeNumber += 1
                activeStarted = segmentOptions.clock.nowMilliseconds()
                activeEntries = 0
                activeBytes = 0
            }
        }
        let doomed = lock.withLock { sealed }
        guard !doomed.isEmpty else { return }
        try sync()
        for (number, engine) in doomed {
            // Its writes' waiters are released by this sync if no round already did.
            try engine.sync()
            try engine.close()
            try DurableFiles.removeDirectory("\(directory)/\(Self.name(number))")
            lock.withLock { sealed.removeAll { $0.number == number } }
        }
        lock.withLock { checkpoints += 1 }
    }

    /// Stops the checkpoint thread and closes every segment. With `removingSegments` (the owner
    /// closed every engine cleanly) the segments are removed: the engines hold everything.
    public func close(removingSegments: Bool) throws {
        let segments = lock.withLock { () -> [(number: UInt64, engine: StorageEngine)] in
            stopped = true
            lock.broadcast()
            // A checkpoint under way closes and removes sealed segments: let it finish.
            while checkpointRunning { lock.wait() }
            return sealed + [(activeNumber, active)] + recoveredSegments
        }
        var firstError: (any Error)?
        for (number, engine) in segments {
            do {
                try engine.sync()
                try engine.close()
                if removingSegments { try DurableFiles.removeDirectory("\(directory)/\(Self.name(number))") }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }

    // MARK: encoding

    /// Entry value: kind (u8: 1 put, 2 delete, 3 dropped), store (u32 LE), then for put and
    /// delete the key length (u32 LE) and key, then for put the value.
    static func encode(_ entry: Entry) -> [UInt8] {
        var bytes: [UInt8] = []
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { bytes += $0 } }
        switch entry {
        case .put(let store, let key, let value):
            bytes.reserveCapacity(9 + key.count + value.count)
            bytes.append(1)
            u32(store)
            u32(key.count)
            bytes += key
            bytes += value
        case .delete(let store, let key):
            bytes.append(2)
            u32(store)
            u32(key.count)
            bytes += key
        case .dropped(let store):
            bytes.append(3)
            u32(store)
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> Entry? {
        func u32(at offset: Int) -> Int? {
            guard offset + 4 <= bytes.count else { return nil }
            return (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        guard let kind = bytes.first, let store = u32(at: 1) else { return nil }
        if kind == 3 { return bytes.count == 5 ? .dropped(store: store) : nil }
        guard kind == 1 || kind == 2, let length = u32(at: 5), 9 + length <= bytes.count else { return nil }
        let key = Array(bytes[9..<(9 + length)])
        if kind == 2 { return bytes.count == 9 + length ? .delete(store: store, key: key) : nil }
        return .put(store: store, key: key, value: Array(bytes[(9 + length)...]))
    }
}

extension StorageEngine.PendingWrite {
    /// Blocks the calling thread until the write is durable (for rare writes off the loop).
    public func durableNow() throws {
        if let ticket { try engine.commit.waitDurable(ticket: ticket, engine: engine) }
    }
}
