import CRocksDB

/// RocksDB through its C API, default options plus a 64 MiB write buffer, background
/// parallelism for this machine's cores, a 10-bit Bloom filter and a 128 MiB block cache
/// (the usual first tuning step; without them point reads would be handicapped).
///
/// Durability mapping: `.none` = WriteOptions.sync=false (WAL written, not fsynced);
/// `.interval` = sync=false plus `rocksdb_flush_wal(db, sync: 1)` every 100 ms from a background
/// thread; `.always` = sync=true (RocksDB group-commits concurrent writers into one WAL fsync).
final class RocksDBStore: BenchStore, @unchecked Sendable {
    // @unchecked: a rocksdb_t and its read/write option objects are safe for concurrent use
    // once created (RocksDB's DB is documented thread-safe; the options are only read).
    let engine = EngineKind.rocksdb
    let level: DurabilityLevel
    let settings: String
    let db: OpaquePointer
    let writeOptions: OpaquePointer
    let readOptions: OpaquePointer
    private let options: OpaquePointer
    private let tableOptions: OpaquePointer
    private let cache: OpaquePointer
    private let syncer: PeriodicTask?
    /// The `rocksdb_version` RocksDB recorded in the OPTIONS file it wrote, e.g. "7.8.3".
    let version: String

    init(directory: String, level: DurabilityLevel) throws {
        self.level = level
        options = rocksdb_options_create()
        rocksdb_options_set_create_if_missing(options, 1)
        rocksdb_options_increase_parallelism(options, Int32(SystemProbe.processorCount()))
        rocksdb_options_set_write_buffer_size(options, 64 << 20)
        tableOptions = rocksdb_block_based_options_create()
        cache = rocksdb_cache_create_lru(128 << 20)
        rocksdb_block_based_options_set_block_cache(tableOptions, cache)
        // The table options take ownership of the filter policy.
        rocksdb_block_based_options_set_filter_policy(tableOptions, rocksdb_filterpolicy_create_bloom_full(10))
        rocksdb_options_set_block_based_table_factory(options, tableOptions)
        writeOptions = rocksdb_writeoptions_create()
        readOptions = rocksdb_readoptions_create()
        switch level {
        case .none:
            rocksdb_writeoptions_set_sync(writeOptions, 0)
            settings = "WriteOptions.sync=false (WAL not fsynced)"
        case .interval:
            rocksdb_writeoptions_set_sync(writeOptions, 0)
            settings = "sync=false + FlushWAL(sync=true) every \(DurabilityLevel.intervalMilliseconds) ms"
        case .always:
            rocksdb_writeoptions_set_sync(writeOptions, 1)
            settings = "sync=true (WAL fsync per write group)"
        }
        var error: UnsafeMutablePointer<CChar>?
        let opened = rocksdb_open(options, directory, &error)
        if let message = RocksDBStore.take(error) {
            RocksDBStore.destroyOptions(options, tableOptions, cache, writeOptions, readOptions)
            throw RocksDBStore.failure("rocksdb_open", message)
        }
        guard let opened else {
            RocksDBStore.destroyOptions(options, tableOptions, cache, writeOptions, readOptions)
            throw RocksDBStore.failure("rocksdb_open", "no database handle")
        }
        db = opened
        version = RocksDBStore.recordedVersion(directory: directory)
        if level == .interval {
            let shared = SharedHandle(opened)
            syncer = PeriodicTask(intervalMilliseconds: DurabilityLevel.intervalMilliseconds) {
                var error: UnsafeMutablePointer<CChar>?
                rocksdb_flush_wal(shared.handle, 1, &error)
                if let message = RocksDBStore.take(error) { throw RocksDBStore.failure("rocksdb_flush_wal", message) }
            }
        } else {
            syncer = nil
        }
    }

    func makeSession() throws -> any BenchSession { RocksDBSession(store: self) }

    func load(count: Int, pair: (Int) -> (key: [UInt8], value: [UInt8])) throws {
        let batch = rocksdb_writebatch_create()
        defer { rocksdb_writebatch_destroy(batch) }
        let unsynced = rocksdb_writeoptions_create()
        defer { rocksdb_writeoptions_destroy(unsynced) }
        var index = 0
        while index < count {
            rocksdb_writebatch_clear(batch)
            for i in index..<Swift.min(index + 1000, count) {
                let (key, value) = pair(i)
                key.withUnsafeBytes { k in
                    value.withUnsafeBytes { v in
                        rocksdb_writebatch_put(batch, cChars(k), k.count,
                                               cChars(v), v.count)
                    }
                }
            }
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_write(db, unsynced, batch, &error)
            if let message = RocksDBStore.take(error) { throw RocksDBStore.failure("rocksdb_write", message) }
            index += 1000
        }
    }

    func close() throws {
        try syncer?.stop()
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_flush_wal(db, 1, &error)
        let message = RocksDBStore.take(error)
        rocksdb_close(db)
        RocksDBStore.destroyOptions(options, tableOptions, cache, writeOptions, readOptions)
        if let message { throw RocksDBStore.failure("rocksdb_flush_wal", message) }
    }

    /// Converts and frees a RocksDB error string.
    static func take(_ error: UnsafeMutablePointer<CChar>?) -> String? {
        guard let error else { return nil }
        defer { rocksdb_free(error) }
        return String(cString: error)
    }

    static func failure(_ operation: String, _ message: String) -> BenchError {
        BenchError(engine: "rocksdb", operation: operation, message: message)
    }

    private static func destroyOptions(_ options: OpaquePointer, _ table: OpaquePointer, _ cache: OpaquePointer,
                                       _ write: OpaquePointer, _ read: OpaquePointer) {
        rocksdb_writeoptions_destroy(write)
        rocksdb_readoptions_destroy(read)
        rocksdb_options_destroy(options)
        rocksdb_block_based_options_destroy(table)
        rocksdb_cache_destroy(cache)
    }

    /// Reads `rocksdb_version=` from the OPTIONS-* file RocksDB writes at open.
    private static func recordedVersion(directory: String) -> String {
        guard let names = try? directoryEntries(directory) else { return "unknown" }
        for name in names where name.hasPrefix("OPTIONS-") {
            guard let text = SystemProbe.readSmallFile(directory + "/" + name) else { continue }
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingSpaces()
                if trimmed.hasPrefix("rocksdb_version=") { return String(trimmed.dropFirst("rocksdb_version=".count)) }
            }
        }
        return "unknown"
    }
}

/// One thread's RocksDB handle; RocksDB needs no per-thread state, so this only forwards.
final class RocksDBSession: BenchSession {
    private let store: RocksDBStore

    init(store: RocksDBStore) { self.store = store }

    func put(_ key: [UInt8], _ value: [UInt8]) throws {
        var error: UnsafeMutablePointer<CChar>?
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                rocksdb_put(store.db, store.writeOptions, cChars(k), k.count,
                            cChars(v), v.count, &error)
            }
        }
        if let message = RocksDBStore.take(error) { throw RocksDBStore.failure("rocksdb_put", message) }
    }

    func get(_ key: [UInt8]) throws -> Int? {
        var error: UnsafeMutablePointer<CChar>?
        let pinned = key.withUnsafeBytes { k in
            rocksdb_get_pinned(store.db, store.readOptions, cChars(k), k.count, &error)
        }
        if let message = RocksDBStore.take(error) { throw RocksDBStore.failure("rocksdb_get_pinned", message) }
        guard let pinned else { return nil }
        defer { rocksdb_pinnableslice_destroy(pinned) }
        var length = 0
        guard let bytes = rocksdb_pinnableslice_value(pinned, &length) else { return nil }
        let value = [UInt8](UnsafeRawBufferPointer(start: bytes, count: length))
        return value.count
    }

    func scan(prefix: [UInt8], limit: Int) throws -> Int {
        let iterator = rocksdb_create_iterator(store.db, store.readOptions)
        defer { rocksdb_iter_destroy(iterator) }
        prefix.withUnsafeBytes { p in
            rocksdb_iter_seek(iterator, cChars(p), p.count)
        }
        var keys: [[UInt8]] = []
        keys.reserveCapacity(limit)
        while keys.count < limit && rocksdb_iter_valid(iterator) != 0 {
            var length = 0
            let bytes = rocksdb_iter_key(iterator, &length)
            let key = UnsafeRawBufferPointer(start: bytes, count: length)
            guard key.hasPrefix(prefix) else { break }
            keys.append([UInt8](key))
            rocksdb_iter_next(iterator)
        }
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_iter_get_error(iterator, &error)
        if let message = RocksDBStore.take(error) { throw RocksDBStore.failure("rocksdb_iter", message) }
        return keys.count
    }

    func close() {}
}

/// Views Swift bytes as the `const char*` the RocksDB C API takes (UInt8 and CChar may alias).
@inline(__always)
private func cChars(_ bytes: UnsafeRawBufferPointer) -> UnsafePointer<CChar>? {
    bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
}
