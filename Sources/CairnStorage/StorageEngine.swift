import Logging

/// A Bitcask-style key-value engine over one directory: append-only checksummed data files,
/// an in-memory keydir, hint files, background merge.
///
/// Writes append a record to the active data file (through its memory mapping) and point the
/// keydir at it; reads look the key up in the keydir and read one record, verifying its
/// checksum, so wrong data is never returned. Durability follows `StorageOptions.durability`.
/// Safe to use from many threads: one lock guards the keydir and file table and is held for
/// the in-memory part of each operation (lookups, the copy of a record into the mapping).
/// Group-commit and interval fsyncs, checksum checks and value decoding happen outside it;
/// the rare rollover (trim, fsync, new file) and block reservation (fallocate every 2 MiB)
/// run under it. See `docs/storage-engine.md`.
public final class StorageEngine: @unchecked Sendable {
    public let directory: String
    let options: StorageOptions
    let logger: Logger
    let lock = ConditionLock()
    let commit = GroupCommit()
    let directoryLock: DirectoryLock
    var runtime: StorageRuntime { options.runtime }

    // Guarded by `lock`. The hot ones skip Swift's dynamic exclusivity checks (which cost a
    // runtime call per access, about 5% of a put): the lock already serialises every access.
    @exclusivity(unchecked) var keydir = Keydir()
    @exclusivity(unchecked) var files: [UInt32: DataFile] = [:]
    @exclusivity(unchecked) var active: DataFile!
    @exclusivity(unchecked) var nextSeq: UInt64 = 1
    var nextFileId: UInt32 = 1
    /// Count of records appended; a writer waits for `commit` to pass its ticket.
    @exclusivity(unchecked) var writeTicket: UInt64 = 0
    var syncedTicket: UInt64 = 0
    var lastSyncMilliseconds: UInt64 = 0
    var failure: StorageError?
    var isClosed = false
    var isMerging = false
    /// Immutable files still waiting for their hint file.
    var filesWantingHints: [UInt32] = []
    var counters = Counters()
    var mergeFailpoint: MergeFailpoint?

    struct Counters {
        var corruptRecordsSkipped = 0
        var tornTailBytesTruncated = 0
        var mergesRun = 0
        var mergeBytesReclaimed = 0
        var hintFilesLoaded = 0
        var dataFilesScanned = 0
        var badHintFiles = 0
        var openMilliseconds = 0.0
    }

    /// Opens (creating if needed) the engine in `directory`, recovering from whatever a crash
    /// left there. Throws `.locked` if another engine holds the directory.
    public init(directory: String, options: StorageOptions = StorageOptions(), logger: Logger? = nil) throws {
        precondition(options.maxKeyBytes > 0 && options.maxKeyBytes <= Keydir.maxKeyBytes, "maxKeyBytes \(options.maxKeyBytes)")
        precondition(options.maxValueBytes >= 0 && options.maxValueBytes <= 1 << 30, "maxValueBytes \(options.maxValueBytes)")
        precondition(options.maxFileSizeBytes >= 4096 && options.maxFileSizeBytes <= Int(UInt32.max) - options.maxRecordBytes,
            "maxFileSizeBytes \(options.maxFileSizeBytes)")
        self.directory = directory
        self.options = options
        var logger = logger ?? Logger(label: "cairn.storage")
        logger[metadataKey: "cairn.storage.dir"] = "\(directory)"
        self.logger = logger
        try FileIO.makeDirectory(directory)
        directoryLock = try DirectoryLock(directory: directory)
        do {
            try recover()
        } catch {
            directoryLock.release()
            throw error
        }
        lastSyncMilliseconds = options.clock.nowMilliseconds()
        options.runtime.register(self)
    }

    deinit {
        if !isClosed { try? close() }
    }

    // MARK: validation

    func validate(keyCount: Int) throws {
        if keyCount == 0 { throw StorageError(.emptyKey, "key is empty") }
        if keyCount > options.maxKeyBytes {
            throw StorageError(.keyTooLarge, "key is \(keyCount) bytes; the limit is \(options.maxKeyBytes)")
        }
    }

    func validate(valueCount: Int) throws {
        if valueCount > options.maxValueBytes {
            throw StorageError(.valueTooLarge, "value is \(valueCount) bytes; the limit is \(options.maxValueBytes)")
        }
    }

    /// Throws unless the engine accepts operations (not closed; for writes, not failed).
    func checkUsable(writing: Bool) throws {
        if isClosed { throw StorageError(.closed, "engine is closed", path: directory) }
        if writing, let failure { throw failure }
    }

    // MARK: writes

    /// Stores `value` under `key`, replacing what was there. With `expiresAtMilliseconds`
    /// (ms since 1970, 0 = never) the key reads as absent from that instant on.
    public func put(_ key: [UInt8], _ value: [UInt8], expiresAtMilliseconds: UInt64 = 0) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(key: k, value: v, expiresAtMilliseconds: expiresAtMilliseconds) }
        }
    }

    /// Stores `value` under `key` for `ttlMilliseconds` from now (by the engine's clock).
    public func put(_ key: [UInt8], _ value: [UInt8], ttlMilliseconds: UInt64) throws {
        guard ttlMilliseconds > 0 else { throw StorageError(.invalidExpiry, "ttl must be positive") }
        let now = options.clock.nowMilliseconds()
        let (expiry, overflow) = now.addingReportingOverflow(ttlMilliseconds)
        guard !overflow else { throw StorageError(.invalidExpiry, "ttl \(ttlMilliseconds) ms overflows") }
        try put(key, value, expiresAtMilliseconds: expiry)
    }

    /// The byte-buffer form of `put`, for callers that hold bytes elsewhere.
    public func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAtMilliseconds: UInt64 = 0) throws {
        if let ticket = try appendValue(key: key, value: value, expiresAtMilliseconds: expiresAtMilliseconds) {
            try commit.waitDurable(ticket: ticket, engine: self)
        }
    }

    /// `put` for async callers: under `.always` the task suspends until the write is durable,
    /// holding no thread meanwhile (the append itself takes the engine lock briefly).
    public func put(_ key: [UInt8], _ value: [UInt8], expiresAtMilliseconds: UInt64 = 0) async throws {
        try await appendPut(key, value, expiresAtMilliseconds: expiresAtMilliseconds).durable()
    }

    /// `delete` for async callers (see the async `put`).
    public func delete(_ key: [UInt8]) async throws {
        try await appendDelete(key).durable()
    }

    /// A write appended (readers see it) and not yet known durable: `durable()` waits for it
    /// under `.always` and returns at once otherwise.
    public struct PendingWrite: Sendable {
        let ticket: UInt64?
        let engine: StorageEngine

        public func durable() async throws {
            if let ticket { try await engine.commit.waitDurable(ticket: ticket, engine: engine) }
        }
    }

    /// The first half of the async `put`: appends at once, so a caller can order the append
    /// under a lock of its own and wait for durability outside it.
    public func appendPut(_ key: [UInt8], _ value: [UInt8], expiresAtMilliseconds: UInt64 = 0) throws -> PendingWrite {
        let ticket = try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try appendValue(key: k, value: v, expiresAtMilliseconds: expiresAtMilliseconds) }
        }
        return PendingWrite(ticket: ticket, engine: self)
    }

    /// The first half of the async `delete` (see `appendPut`).
    public func appendDelete(_ key: [UInt8]) throws -> PendingWrite {
        try validate(keyCount: key.count)
        return PendingWrite(ticket: try key.withUnsafeBytes { try appendTombstone(key: $0) }, engine: self)
    }

    /// Validates and appends a value record; returns the ticket to wait for under `.always`.
    private func appendValue(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAtMilliseconds: UInt64) throws
        -> UInt64?
    {
        try validate(keyCount: key.count)
        try validate(valueCount: value.count)
        guard expiresAtMilliseconds / 1000 < UInt64(UInt32.max) else {
            throw StorageError(.invalidExpiry, "expiry \(expiresAtMilliseconds) ms is past year 2106")
        }
        if let compressed = ValueCompression.compress(value) {
            return try compressed.withUnsafeBytes {
                try append(key: key, storedValue: $0, flags: .lz4, expiresAtMilliseconds: expiresAtMilliseconds)
            }
        }
        return try append(key: key, storedValue: value, flags: [], expiresAtMilliseconds: expiresAtMilliseconds)
    }

    private func appendTombstone(key: UnsafeRawBufferPointer) throws -> UInt64? {
        try append(key: key, storedValue: UnsafeRawBufferPointer(start: nil, count: 0), flags: .tombstone, expiresAtMilliseconds: 0)
    }

    /// Deletes `key` (writes a tombstone). Deleting an absent key writes nothing.
    public func delete(_ key: [UInt8]) throws {
        try validate(keyCount: key.count)
        if let ticket = try key.withUnsafeBytes({ try appendTombstone(key: $0) }) {
            try commit.waitDurable(ticket: ticket, engine: self)
        }
    }

    /// Appends one record and points the keydir at it. Returns the write's ticket when the
    /// caller must wait for it to be durable (`.always`), else nil.
    private func append(key: UnsafeRawBufferPointer, storedValue: UnsafeRawBufferPointer, flags: RecordHeader.Flags,
        expiresAtMilliseconds: UInt64) throws -> UInt64?
    {
        let hash = XXH3.hash(key)
        let isTombstone = flags.contains(.tombstone)
        let size = RecordHeader.size + key.count + storedValue.count
        lock.lock()
        let ticket: UInt64
        do {
            defer { lock.unlock() }
            try checkUsable(writing: true)
            if isTombstone && keydir.find(key, hash: hash) == nil { return nil }
            try ensureSpace(forRecordOf: size)
            let file = active!
            let seq = nextSeq
            nextSeq += 1
            let offset = file.length
            let p = file.base! + offset
            RecordHeader(flags: flags, keyLength: key.count, valueLength: storedValue.count, seq: seq,
                expiresAtMilliseconds: expiresAtMilliseconds).write(to: p)
            (p + RecordHeader.size).copyMemory(from: key.baseAddress!, byteCount: key.count)
            if storedValue.count > 0 {
                (p + RecordHeader.size + key.count).copyMemory(from: storedValue.baseAddress!, byteCount: storedValue.count)
            }
            RecordHeader.seal(p, recordSize: size)
            file.length += size
            file.noteRecord(seq: seq)
            let previous: KeydirEntry?
            if isTombstone {
                file.deadBytes += size
                previous = keydir.remove(key, hash: hash)
            } else {
                let expirySeconds = KeydirEntry.expirySeconds(ofMilliseconds: expiresAtMilliseconds)
                file.noteLive(size: size, expirySeconds: expirySeconds)
                previous = keydir.upsert(key, hash: hash, KeydirEntry(
                    fileId: file.id, offset: UInt32(offset), size: UInt32(size), expirySeconds: expirySeconds))
            }
            if let previous { markDead(previous) }
            writeTicket += 1
            ticket = writeTicket
        }
        if case .always = options.durability { return ticket }
        return nil
    }

    /// Moves a replaced record's bytes from live to dead in its file's accounting.
    func markDead(_ entry: KeydirEntry) {
        files[entry.fileId]?.noteDead(size: Int(entry.size), expirySeconds: entry.expirySeconds)
    }

    // MARK: reads

    /// The value stored under `key`, or nil when absent, deleted or expired. Throws
    /// `.corruptRecord` rather than return bytes that fail their checksum.
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { try get(key: $0) }
    }

    public func get(key: UnsafeRawBufferPointer) throws -> [UInt8]? {
        try validate(keyCount: key.count)
        let hash = XXH3.hash(key)
        let now = options.clock.nowMilliseconds()
        lock.lock()
        let entry: KeydirEntry
        let file: DataFile
        do {
            defer { lock.unlock() }
            try checkUsable(writing: false)
            guard let handle = keydir.find(key, hash: hash) else { return nil }
            entry = keydir.entry(handle)
            if entry.isSurelyExpired(nowMilliseconds: now) { return nil }
            guard let f = files[entry.fileId] else {
                preconditionFailure("keydir names file \(entry.fileId) that the engine does not hold")
            }
            file = f
        }
        return try readValue(file: file, entry: entry, key: key, now: now)
    }

    /// Reads and checks the record at `entry`; nil if it has expired by `now`.
    func readValue(file: DataFile, entry: KeydirEntry, key: UnsafeRawBufferPointer, now: UInt64) throws -> [UInt8]? {
        let offset = Int(entry.offset), size = Int(entry.size)
        guard let base = file.base, offset + size <= file.mappedLength else { throw corrupt(file, offset, "outside its file") }
        let p = UnsafeRawPointer(base + offset)
        guard let header = RecordHeader.parse(p), header.recordSize == size, RecordHeader.verify(p, recordSize: size),
            header.keyLength == key.count, memcmp(p + RecordHeader.size, key.baseAddress!, key.count) == 0
        else { throw corrupt(file, offset, "failed its checksum") }
        if header.expiresAtMilliseconds != 0 && header.expiresAtMilliseconds <= now { return nil }
        let stored = UnsafeRawBufferPointer(start: p + RecordHeader.size + key.count, count: header.valueLength)
        if header.flags.contains(.lz4) {
            guard let value = ValueCompression.decompress(stored, maximumBytes: max(options.maxValueBytes, 1 << 30)) else {
                throw corrupt(file, offset, "holds a bad LZ4 block")
            }
            return value
        }
        return [UInt8](stored)
    }

    private func corrupt(_ file: DataFile, _ offset: Int, _ what: String) -> StorageError {
        lock.withLock { counters.corruptRecordsSkipped += 1 }
        logger.error("corrupt record", metadata: ["cairn.storage.file": "\(file.path)", "cairn.storage.offset": "\(offset)"])
        return StorageError(.corruptRecord, "record \(what)", path: file.path, offset: offset)
    }

    /// Keys that start with `prefix`, in byte order, after `after` (exclusive) when given, at
    /// most `limit` of them. Expired keys are left out. The cost grows with the keys returned,
    /// not with the keys stored.
    public func scan(prefix: [UInt8], after: [UInt8]? = nil, limit: Int) throws -> [[UInt8]] {
        precondition(limit >= 0, "scan limit \(limit)")
        let now = options.clock.nowMilliseconds()
        var keys: [[UInt8]] = []
        let startAfter = after.map { Keydir.compareBytes($0, prefix) >= 0 } ?? false
        let start = startAfter ? after! : prefix
        try lock.withLock {
            try checkUsable(writing: false)
            guard limit > 0 else { return }
            start.withUnsafeBytes { startBytes in
                prefix.withUnsafeBytes { prefixBytes in
                    keydir.forEachOrdered(from: startBytes, strict: startAfter) { handle in
                        let key = keydir.key(handle)
                        guard key.count >= prefixBytes.count,
                            prefixBytes.count == 0 || memcmp(key.baseAddress!, prefixBytes.baseAddress!, prefixBytes.count) == 0
                        else { return false }
                        let entry = keydir.entry(handle)
                        if entry.mayBeExpired(nowMilliseconds: now) && isExpired(entry, now: now) { return true }
                        keys.append([UInt8](key))
                        return keys.count < limit
                    }
                }
            }
        }
        return keys
    }

    /// Exact expiry check from the record header (the keydir keeps only whole seconds).
    func isExpired(_ entry: KeydirEntry, now: UInt64) -> Bool {
        if entry.isSurelyExpired(nowMilliseconds: now) { return true }
        guard let base = files[entry.fileId]?.base else { return false }
        let expires = UInt64(littleEndian: (base + Int(entry.offset)).loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        return expires != 0 && expires <= now
    }

    // MARK: lifecycle

    /// Flushes everything written so far to disk (whatever the durability policy).
    public func sync() throws {
        let ticket = try syncActive()
        commit.markDurable(upTo: ticket)
    }

    /// `sync()` when anything was written since the last sync.
    public func syncIfDirty() throws {
        if lock.withLock({ writeTicket > syncedTicket }) { try sync() }
    }

    /// Syncs, releases the directory lock and stops accepting operations. Idempotent.
    /// Whether a write failed for good (an fsync error): later writes fail, and what was
    /// written since the last successful sync may not be on disk.
    public var hasFailed: Bool { lock.withLock { failure != nil } }

    public func close() throws {
        let file: DataFile? = lock.withLock {
            guard !isClosed else { return nil }
            while isMerging { lock.wait() }
            isClosed = true
            return active
        }
        guard let file else { return }
        defer {
            commit.stop()
            runtime.descriptors.evict(file)
            directoryLock.release()
        }
        let failed = lock.withLock { failure != nil }
        try runtime.descriptors.withDescriptor(file) { fd in
            try FileIO.truncate(fd, file.path, to: file.length)
            if !failed { try FileIO.dataSync(fd, file.path) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Keydir {
    static func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in compare(x, y) } }
    }
}
