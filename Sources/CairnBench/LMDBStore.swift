import CLMDB

/// LMDB through its C API: one write transaction per put, one named-less main database.
///
/// Durability mapping: `.none` = MDB_NOSYNC; `.interval` = MDB_NOSYNC plus `mdb_env_sync(env, 1)`
/// every 100 ms from a background thread; `.always` = LMDB's default (the commit syncs data and
/// meta page). MDB_NORDAHEAD because every workload reads at random; MDB_NOTLS so a session's
/// reusable read transaction is not tied to thread-local storage.
final class LMDBStore: BenchStore, @unchecked Sendable {
    // @unchecked: `env` is an MDB_env, which LMDB documents as shareable between threads
    // (transactions are per thread, write transactions serialise on LMDB's own mutex).
    let engine = EngineKind.lmdb
    let level: DurabilityLevel
    let settings: String
    let env: OpaquePointer
    let dbi: MDB_dbi
    private let syncer: PeriodicTask?

    static let mapSizeBytes = 8 << 30

    /// "0.9.24" — the version of the linked library.
    static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        _ = mdb_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    init(directory: String, level: DurabilityLevel) throws {
        self.level = level
        var created: OpaquePointer?
        try LMDBStore.check(mdb_env_create(&created), "mdb_env_create")
        guard let env = created else { throw LMDBStore.failure("mdb_env_create", "no environment") }
        var flags = UInt32(MDB_NORDAHEAD | MDB_NOTLS)
        switch level {
        case .none:
            flags |= UInt32(MDB_NOSYNC)
            settings = "MDB_NOSYNC, one write txn per put"
        case .interval:
            flags |= UInt32(MDB_NOSYNC)
            settings = "MDB_NOSYNC + mdb_env_sync(force) every \(DurabilityLevel.intervalMilliseconds) ms"
        case .always:
            settings = "default sync (fsync at each txn commit), one write txn per put"
        }
        do {
            try LMDBStore.check(mdb_env_set_mapsize(env, LMDBStore.mapSizeBytes), "mdb_env_set_mapsize")
            try LMDBStore.check(mdb_env_set_maxreaders(env, 256), "mdb_env_set_maxreaders")
            try LMDBStore.check(mdb_env_open(env, directory, flags, 0o644), "mdb_env_open")
            var txn: OpaquePointer?
            try LMDBStore.check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
            var opened = MDB_dbi()
            let rc = mdb_dbi_open(txn, nil, 0, &opened)
            if rc != 0 {
                mdb_txn_abort(txn)
                try LMDBStore.check(rc, "mdb_dbi_open")
            }
            try LMDBStore.check(mdb_txn_commit(txn), "mdb_txn_commit")
            dbi = opened
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.env = env
        if level == .interval {
            let shared = SharedHandle(env)
            syncer = PeriodicTask(intervalMilliseconds: DurabilityLevel.intervalMilliseconds) {
                try LMDBStore.check(mdb_env_sync(shared.handle, 1), "mdb_env_sync")
            }
        } else {
            syncer = nil
        }
    }

    func makeSession() throws -> any BenchSession { LMDBSession(store: self) }

    func load(count: Int, pair: (Int) -> (key: [UInt8], value: [UInt8])) throws {
        let batch = 10_000
        var start = 0
        while start < count {
            var txn: OpaquePointer?
            try LMDBStore.check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
            do {
                for index in start..<Swift.min(start + batch, count) {
                    let (key, value) = pair(index)
                    try LMDBStore.put(txn, dbi, key, value)
                }
            } catch {
                mdb_txn_abort(txn)
                throw error
            }
            try LMDBStore.check(mdb_txn_commit(txn), "mdb_txn_commit")
            start += batch
        }
    }

    func close() throws {
        try syncer?.stop()
        try LMDBStore.check(mdb_env_sync(env, 1), "mdb_env_sync")
        mdb_env_close(env)
    }

    static func put(_ txn: OpaquePointer?, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) throws {
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                var valueVal = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                return mdb_put(txn, dbi, &keyVal, &valueVal, 0)
            }
        }
        try check(rc, "mdb_put")
    }

    static func check(_ rc: Int32, _ operation: String) throws {
        guard rc != 0 else { return }
        throw failure(operation, "\(String(cString: mdb_strerror(rc))) (\(rc))")
    }

    static func failure(_ operation: String, _ message: String) -> BenchError {
        BenchError(engine: "lmdb", operation: operation, message: message)
    }
}

/// One thread's LMDB handle: a read transaction kept in the reset state between reads
/// (`mdb_txn_reset` / `mdb_txn_renew`, the usage LMDB recommends for frequent readers).
final class LMDBSession: BenchSession {
    private let store: LMDBStore
    private var readTxn: OpaquePointer?

    init(store: LMDBStore) { self.store = store }

    func put(_ key: [UInt8], _ value: [UInt8]) throws {
        var txn: OpaquePointer?
        try LMDBStore.check(mdb_txn_begin(store.env, nil, 0, &txn), "mdb_txn_begin")
        do {
            try LMDBStore.put(txn, store.dbi, key, value)
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try LMDBStore.check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    func get(_ key: [UInt8]) throws -> Int? {
        let txn = try beginRead()
        defer { mdb_txn_reset(txn) }
        var found = MDB_val()
        let rc = key.withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            return mdb_get(txn, store.dbi, &keyVal, &found)
        }
        if rc == MDB_NOTFOUND { return nil }
        try LMDBStore.check(rc, "mdb_get")
        let value = [UInt8](UnsafeRawBufferPointer(start: found.mv_data, count: found.mv_size))
        return value.count
    }

    func scan(prefix: [UInt8], limit: Int) throws -> Int {
        let txn = try beginRead()
        defer { mdb_txn_reset(txn) }
        var cursor: OpaquePointer?
        try LMDBStore.check(mdb_cursor_open(txn, store.dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var keys: [[UInt8]] = []
        keys.reserveCapacity(limit)
        let rc: Int32 = prefix.withUnsafeBytes { p in
            var keyVal = MDB_val(mv_size: p.count, mv_data: UnsafeMutableRawPointer(mutating: p.baseAddress))
            var valueVal = MDB_val()
            var op = MDB_SET_RANGE
            while keys.count < limit {
                let rc = mdb_cursor_get(cursor, &keyVal, &valueVal, op)
                if rc != 0 { return rc }
                let key = UnsafeRawBufferPointer(start: keyVal.mv_data, count: keyVal.mv_size)
                guard key.hasPrefix(prefix) else { return 0 }
                keys.append([UInt8](key))
                op = MDB_NEXT
            }
            return 0
        }
        if rc != MDB_NOTFOUND { try LMDBStore.check(rc, "mdb_cursor_get") }
        return keys.count
    }

    func close() {
        if let readTxn { mdb_txn_abort(readTxn) }
        readTxn = nil
    }

    private func beginRead() throws -> OpaquePointer? {
        if let readTxn {
            try LMDBStore.check(mdb_txn_renew(readTxn), "mdb_txn_renew")
            return readTxn
        }
        var txn: OpaquePointer?
        try LMDBStore.check(mdb_txn_begin(store.env, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin")
        readTxn = txn
        return txn
    }
}
