#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The three storage engines the benchmark compares.
public enum EngineKind: String, Sendable, CaseIterable {
    case cairn
    case lmdb
    case rocksdb
}

/// The durability policy a workload asks for; each adapter maps it to its engine's nearest
/// equivalent and says which in `BenchStore.settings`.
public enum DurabilityLevel: String, Sendable, CaseIterable {
    /// No fsync while running.
    case none
    /// fsync every 100 ms in the background.
    case interval
    /// fsync before each write is acknowledged.
    case always

    static let intervalMilliseconds = 100
}

/// One open store of one engine, shared by all worker threads of a workload.
protocol BenchStore: AnyObject, Sendable {
    var engine: EngineKind { get }
    var level: DurabilityLevel { get }
    /// Human-readable durability settings actually used, e.g. "MDB_NOSYNC".
    var settings: String { get }

    /// A handle for one thread; it must be used and closed on the thread that made it.
    func makeSession() throws -> any BenchSession

    /// Writes `count` pairs as fast as the engine allows (batched where it has batches).
    /// Not measured per operation; it only prepares a store for read workloads.
    func load(count: Int, pair: (Int) -> (key: [UInt8], value: [UInt8])) throws

    /// Flushes and closes; the store must not be used afterwards.
    func close() throws
}

/// Per-thread access to a store (LMDB keeps a reusable read transaction here).
protocol BenchSession: AnyObject {
    func put(_ key: [UInt8], _ value: [UInt8]) throws
    /// Returns the value's length, or nil if the key is absent. The value is copied into a
    /// Swift array by every adapter, as an application would, so no engine wins by lending a
    /// pointer into its own memory.
    func get(_ key: [UInt8]) throws -> Int?
    /// Returns how many keys (at most `limit`) start with `prefix`, copying each key out.
    func scan(prefix: [UInt8], limit: Int) throws -> Int
    func close()
}

/// Opens a fresh store of `engine` in `directory` under `level`.
func openStore(_ engine: EngineKind, directory: String, level: DurabilityLevel) throws -> any BenchStore {
    switch engine {
    case .cairn: try CairnStore(directory: directory, level: level)
    case .lmdb: try LMDBStore(directory: directory, level: level)
    case .rocksdb: try RocksDBStore(directory: directory, level: level)
    }
}

/// Wraps a C handle that the wrapped library documents as safe to share between threads.
struct SharedHandle<Handle>: @unchecked Sendable {
    let handle: Handle
    init(_ handle: Handle) { self.handle = handle }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes start with `prefix` (used by the LMDB and RocksDB scans).
    @inline(__always)
    func hasPrefix(_ prefix: [UInt8]) -> Bool {
        count >= prefix.count && prefix.withUnsafeBytes { p in
            p.count == 0 || memcmp(p.baseAddress!, baseAddress!, p.count) == 0
        }
    }
}
