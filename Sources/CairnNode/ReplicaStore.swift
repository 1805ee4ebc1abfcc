import CXXHash
import CairnCore
import CairnStorage
import Logging
import Synchronization

/// The objects this node replicates: one storage engine per key-partition (DESIGN.md §2,
/// "Replicas and storage"), each object stored with this node's mint epoch for the key, and a
/// Merkle tree per partition kept current on the write path.
///
/// Record value layout in a partition's engine:
///
/// ```
///   +--------+-------------------------+--------------------------------------+
///   | format | varint mint epoch + 1   | DVVSet encoding (docs/versioning.md) |
///   |  u8=1  | (0: none recorded)      |                                      |
///   +--------+-------------------------+--------------------------------------+
/// ```
///
/// Shared by the node's core instances (`Shard`): the table of open partitions is behind a
/// lock, the engines are safe from any thread, and a partition's Merkle tree is updated only by
/// the instance that owns the partition (its key gate orders the writes). Another instance
/// only reads records and lists keys (the home instance's scans).
final class ReplicaStore: @unchecked Sendable {
    struct Record: Equatable {
        var object: DVVSet<[UInt8]>
        var mintEpoch: UInt64?
        /// The object's version hash as read from disk (the hash of its stored encoding), so
        /// the Merkle update of the next write need not encode the old object again.
        var storedVersionHash: UInt64? = nil

        init(object: DVVSet<[UInt8]>, mintEpoch: UInt64?, storedVersionHash: UInt64? = nil) {
            self.object = object
            self.mintEpoch = mintEpoch
            self.storedVersionHash = storedVersionHash
        }

        static func == (a: Record, b: Record) -> Bool { a.object == b.object && a.mintEpoch == b.mintEpoch }
    }

    struct CorruptRecord: Error, CustomStringConvertible {
        var partition: Int
        var reason: String
        var description: String { "corrupt object in partition \(partition): \(reason)" }
    }

    let directory: String
    let partitionCount: Int
    let options: StorageOptions
    let logger: Logger
    /// `NodeConfiguration.unsafeLastWriterWins`: an arriving object replaces the copy.
    let replacesOnMerge: Bool

    /// One open partition: its engine and its tree (the tree touched only by the owning instance).
    private final class Partition {
        let engine: StorageEngine
        var tree: MerkleTree
        /// Bumped when `rebuildTree` replaces the tree: a write that applied its record before
        /// the rebuild and reaches its tree update after it (the instance is an actor, and a
        /// write waits for durability in between) skips the update, which the rebuilt tree
        /// already holds.
        var treeGeneration: UInt64 = 0

        init(engine: StorageEngine, tree: MerkleTree) {
            self.engine = engine
            self.tree = tree
        }
    }

    private let open = Mutex<[Int: Partition]>([:])

    /// The node's commit log (`CommitLog`) when writes wait for fsync (`Durability.always`):
    /// the partitions' engines then never make a write wait, and the log's group commit makes
    /// the writes of every partition durable together. Nil under the other durabilities.
    let log: CommitLog?

    /// Opens the partitions on disk and applies what the commit log in `logDirectory` held
    /// after a crash (whatever the durability now), then builds their trees.
    init(directory: String, logDirectory: String, partitionCount: Int, options: StorageOptions, replacesOnMerge: Bool = false,
         logger: Logger) throws {
        self.directory = directory
        self.partitionCount = partitionCount
        self.replacesOnMerge = replacesOnMerge
        self.logger = logger
        let logged = options.durability == .always
        var engineOptions = options
        // With the log, an engine fsyncs at rollover, at checkpoints and at close only.
        if logged { engineOptions.durability = .interval(milliseconds: 3_600_000) }
        self.options = engineOptions
        try DurableFiles.makeDirectory(directory)
        try DurableFiles.removeLeftovers(in: directory)
        // Without `always` the log is opened only to apply what an earlier run left.
        let log = logged || DurableFiles.exists(logDirectory) ? try CommitLog(
            directory: logDirectory, maxKeyBytes: options.maxKeyBytes, maxValueBytes: options.maxValueBytes, logger: logger) : nil
        var engines: [Int: StorageEngine] = [:]
        do {
            for name in try DurableFiles.list(directory) {
                guard let partition = Int(name), partition >= 0, partition < partitionCount else { continue }
                engines[partition] = try StorageEngine(directory: "\(directory)/\(partition)", options: engineOptions, logger: logger)
            }
            try Self.replay(log?.recovered ?? [], into: &engines, directory: directory, options: engineOptions, partitionCount: partitionCount,
                            logger: logger)
            try log?.finishRecovery()
            // Open the partitions on disk with their trees, ready for anti-entropy.
            for (partition, engine) in engines {
                try open.withLock { $0[partition] = try Self.withTree(engine, partition: partition) }
            }
        } catch {
            for engine in engines.values { try? engine.close() }
            try? log?.close(removingSegments: false)
            throw error
        }
        if logged, let log {
            self.log = log
            log.startCheckpoints { [weak self] in try self?.syncAll() }
        } else {
            try log?.close(removingSegments: true)
            if log != nil { try DurableFiles.removeDirectory(logDirectory) }
            self.log = nil
        }
    }

    /// Applies the commit log's entries, in order, to the partitions' engines, then syncs them.
    private static func replay(_ entries: [CommitLog.Entry], into engines: inout [Int: StorageEngine], directory: String,
                               options: StorageOptions, partitionCount: Int, logger: Logger) throws {
        guard !entries.isEmpty else { return }
        func engine(_ partition: Int) throws -> StorageEngine? {
            guard partition >= 0, partition < partitionCount else { return nil }
            if let engine = engines[partition] { return engine }
            let engine = try StorageEngine(directory: "\(directory)/\(partition)", options: options, logger: logger)
            engines[partition] = engine
            return engine
        }
        for entry in entries {
            switch entry {
            case .put(let partition, let key, let value): try engine(partition)?.put(key, value)
            case .delete(let partition, let key): try engine(partition)?.delete(key)
            case .dropped(let partition):
                try engines.removeValue(forKey: partition)?.close()
                if DurableFiles.exists("\(directory)/\(partition)") { try DurableFiles.removeDirectory("\(directory)/\(partition)") }
            }
        }
        for engine in engines.values { try engine.sync() }
        logger.notice("applied the commit log left by an unclean stop", metadata: ["cairn.entries": "\(entries.count)"])
    }

    /// Makes every write applied to an engine so far durable in the engine's own files (a
    /// commit log checkpoint). An engine closed meanwhile (a dropped partition) is skipped.
    func syncAll() throws {
        for partition in open.withLock({ Array($0.values) }) {
            do { try partition.engine.syncIfDirty() } catch let error as StorageError where error.code == .closed {}
        }
    }

    static func keyHash(_ key: [UInt8]) -> KeyHash {
        KeyHash(key.withUnsafeBytes { cairn_xxh3_64($0.baseAddress, $0.count) })
    }

    static func versionHash(_ object: DVVSet<[UInt8]>) -> UInt64 { versionHash(encoding: object.encode()) }

    /// The version hash of an object from its canonical encoding (equal objects, equal bytes).
    static func versionHash(encoding: some Collection<UInt8>) -> UInt64 {
        Array(encoding).withUnsafeBytes { cairn_xxh3_64($0.baseAddress, $0.count) }
    }

    /// The partitions that have an engine open (or on disk).
    var partitions: [Int] { open.withLock { $0.keys.sorted() } }

    func engine(_ partition: Int) throws -> StorageEngine { try opened(partition).engine }

    /// The open partition, opened (and its tree built) on first use.
    private func opened(_ partition: Int) throws -> Partition {
        try open.withLock { open in
            if let existing = open[partition] { return existing }
            guard partition >= 0, partition < partitionCount else {
                throw CorruptRecord(partition: partition, reason: "partition outside 0..<\(partitionCount)")
            }
            let opened = try Self.withTree(
                StorageEngine(directory: "\(directory)/\(partition)", options: options, logger: logger), partition: partition)
            open[partition] = opened
            return opened
        }
    }

    /// `engine` with its Merkle tree built from its records (closed if that fails).
    private static func withTree(_ engine: StorageEngine, partition: Int) throws -> Partition {
        let tree: MerkleTree
        do {
            tree = try buildTree(engine, partition: partition).tree
        } catch {
            try? engine.close()
            throw error
        }
        // Cached only with its tree, so no caller ever finds an engine without one.
        return Partition(engine: engine, tree: tree)
    }

    /// The Merkle tree of `engine`'s records, and how many keys went into it.
    private static func buildTree(_ engine: StorageEngine, partition: Int) throws -> (tree: MerkleTree, keys: Int) {
        var tree = MerkleTree()
        var keys = 0
        for key in try engine.scan(prefix: [], limit: Int.max) {
            guard let bytes = try engine.get(key), let record = try? Self.decode(bytes, partition: partition) else { continue }
            tree.insert(Self.keyHash(key), versionHash: record.storedVersionHash ?? Self.versionHash(record.object))
            keys += 1
        }
        return (tree, keys)
    }

    /// Rebuilds `partition`'s Merkle tree from its records, replacing the one kept current on
    /// the write path (an operator's check that the two agree; `POST /v1/cluster/antientropy`).
    /// Only the instance that owns the partition may call it. Returns the keys counted and the
    /// root before and after.
    func rebuildTree(_ partition: Int) throws -> (keys: Int, rootBefore: UInt64, rootAfter: UInt64) {
        let opened = try opened(partition)
        let before = opened.tree.root
        let (tree, keys) = try Self.buildTree(opened.engine, partition: partition)
        opened.tree = tree
        opened.treeGeneration &+= 1
        return (keys, before, tree.root)
    }

    func tree(_ partition: Int) throws -> MerkleTree { try opened(partition).tree }

    func read(_ key: [UInt8], partition: Int) throws -> Record? {
        guard let bytes = try engine(partition).get(key) else { return nil }
        return try Self.decode(bytes, partition: partition)
    }

    /// Stores `record` durably (as the engine's durability setting defines) and updates the tree.
    nonisolated(nonsending) func write(_ key: [UInt8], partition: Int, record: Record, previous: Record?) async throws {
        let opened = try opened(partition)
        // One encoding serves the stored value and the new version hash.
        let objectBytes = record.object.encode()
        let value = Self.encode(mintEpoch: record.mintEpoch, objectBytes: objectBytes)
        // Applied first, then logged: a checkpoint that seals the entry has synced the engine with it.
        let generation = opened.treeGeneration
        let applied = try opened.engine.appendPut(key, value)
        if let log {
            try await log.append(.put(store: partition, key: key, value: value)).durable()
        } else {
            try await applied.durable()
        }
        guard opened.treeGeneration == generation else { return }
        opened.tree.update(
            Self.keyHash(key), from: previous.map { $0.storedVersionHash ?? Self.versionHash($0.object) },
            to: Self.versionHash(encoding: objectBytes))
    }

    /// Merges `object` into the stored copy by `DVVSet.sync`; returns whether anything changed
    /// and the merged object.
    nonisolated(nonsending) func merge(_ key: [UInt8], partition: Int, object: DVVSet<[UInt8]>) async throws
        -> (changed: Bool, object: DVVSet<[UInt8]>)
    {
        let previous = try read(key, partition: partition)
        let merged = replacesOnMerge ? object : previous.map { DVVSet.sync($0.object, object) } ?? object
        guard merged != previous?.object else { return (false, merged) }
        try await write(key, partition: partition, record: Record(object: merged, mintEpoch: previous?.mintEpoch), previous: previous)
        return (true, merged)
    }

    /// Removes the record of `key` durably if its object is still `expected` (a dead object
    /// every primary confirmed); returns whether it did.
    nonisolated(nonsending) func reap(_ key: [UInt8], partition: Int, expected: DVVSet<[UInt8]>) async throws -> Bool {
        guard let current = try read(key, partition: partition), current.object == expected else { return false }
        let opened = try opened(partition)
        let generation = opened.treeGeneration
        let applied = try opened.engine.appendDelete(key)
        if let log {
            try await log.append(.delete(store: partition, key: key)).durable()
        } else {
            try await applied.durable()
        }
        guard opened.treeGeneration == generation else { return true }
        opened.tree.update(Self.keyHash(key), from: current.storedVersionHash ?? Self.versionHash(current.object), to: nil)
        return true
    }

    /// Removes this node's whole copy of `partition` (engine, files, tree) if its tree's root
    /// is still `root`; returns whether it did. Called by the instance that owns the partition,
    /// never while a write to the partition is under way (the core checks its key gate). The
    /// commit log records the drop durably first, so no replay after a crash brings it back.
    nonisolated(nonsending) func drop(partition: Int, root: UInt64) async throws -> Bool {
        guard open.withLock({ $0[partition] != nil }) || DurableFiles.exists("\(directory)/\(partition)") else { return false }
        guard try tree(partition).root == root else { return false }
        if let log { try await log.append(.dropped(store: partition)).durable() }
        try open.withLock { $0.removeValue(forKey: partition) }?.engine.close()
        try DurableFiles.removeDirectory("\(directory)/\(partition)")
        return true
    }

    /// The keys of `partition` whose hash falls in `segments` of its Merkle tree.
    func keys(partition: Int, segments: Set<Int>) throws -> [[UInt8]] {
        let tree = try tree(partition)
        return try engine(partition).scan(prefix: [], limit: Int.max).filter { segments.contains(tree.segment(of: Self.keyHash($0))) }
    }

    /// Keys of `partition` in order after `cursor`, at most `limit` (handoff and scans).
    func scan(partition: Int, prefix: [UInt8] = [], after cursor: [UInt8]?, limit: Int) throws -> [[UInt8]] {
        try engine(partition).scan(prefix: prefix, after: cursor, limit: limit)
    }

    /// The partitions whose engine refused writes for good after a failed fsync (what it held
    /// since its last sync may not be on disk), and whether the commit log did.
    func failures() -> (partitions: [Int], commitLog: Bool) {
        let partitions = open.withLock { open in open.filter { $0.value.engine.hasFailed }.map(\.key) }.sorted()
        return (partitions, log?.hasFailed ?? false)
    }

    /// Keys and live bytes of each open partition.
    func partitionStats() -> [Int: (keys: Int, liveBytes: Int)] {
        let partitions = open.withLock { $0 }
        return partitions.mapValues { partition in
            let stats = partition.engine.stats()
            return (stats.keys, stats.files.reduce(0) { $0 + $1.liveBytes })
        }
    }

    /// The storage statistics of every open partition, summed.
    func totals() -> (keys: Int, liveBytes: Int, deadBytes: Int, keydirBytes: Int, merges: Int, corrupt: Int) {
        var result = (keys: 0, liveBytes: 0, deadBytes: 0, keydirBytes: 0, merges: 0, corrupt: 0)
        for partition in open.withLock({ Array($0.values) }) {
            let stats = partition.engine.stats()
            result.keys += stats.keys
            result.liveBytes += stats.files.reduce(0) { $0 + $1.liveBytes }
            result.deadBytes += stats.files.reduce(0) { $0 + $1.deadBytes }
            result.keydirBytes += stats.keydirBytes
            result.merges += stats.mergesRun
            result.corrupt += stats.corruptRecordsSkipped
        }
        return result
    }

    /// Closes every partition's engine (flushing it); false when any failed, now or earlier
    /// (a failed fsync: what it covered may not be on disk).
    @discardableResult
    func close() -> Bool {
        var closed = true
        let all: [Int: Partition] = open.withLock { open in
            let all = open
            open = [:]
            return all
        }
        for (partition, opened) in all {
            let engine = opened.engine
            if engine.hasFailed { closed = false }
            do { try engine.close() } catch {
                closed = false
                logger.error("closing partition failed", metadata: ["cairn.partition": "\(partition)", "error": "\(error)"])
            }
        }
        if let log {
            // Every engine closed cleanly holds all the log had: the log's segments can go.
            if log.hasFailed { closed = false }
            do { try log.close(removingSegments: closed) } catch {
                closed = false
                logger.error("closing the commit log failed", metadata: ["error": "\(error)"])
            }
        }
        return closed
    }

    // MARK: record encoding

    static func encode(mintEpoch: UInt64?, objectBytes: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [1]
        Varint.append(mintEpoch.map { $0 + 1 } ?? 0, to: &bytes)
        bytes += objectBytes
        return bytes
    }

    static func decode(_ bytes: [UInt8], partition: Int) throws -> Record {
        guard bytes.first == 1 else { throw CorruptRecord(partition: partition, reason: "unknown record format \(bytes.first.map(String.init) ?? "none")") }
        var offset = 1
        guard let epoch = Varint.read(bytes, at: &offset) else { throw CorruptRecord(partition: partition, reason: "truncated mint epoch") }
        do {
            let objectBytes = Array(bytes[offset...])
            let object = try DVVSet<[UInt8]>(decoding: objectBytes)
            return Record(object: object, mintEpoch: epoch == 0 ? nil : epoch - 1,
                          storedVersionHash: versionHash(encoding: objectBytes))
        } catch {
            throw CorruptRecord(partition: partition, reason: "\(error)")
        }
    }
}

/// Unsigned LEB128, for the node's small local records.
enum Varint {
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    static func read(_ bytes: [UInt8], at offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
