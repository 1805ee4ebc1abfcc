/// One line of the report: one engine under one workload.
///
/// The core fields are present on every row; the optional ones belong to the Cairn-only
/// workloads (open time, merge, keydir memory) and are left out of the JSON when absent.
public struct BenchRow: Codable, Sendable {
    public var engine: String
    public var workload: String
    /// The engine's durability-relevant settings for this row, e.g. "MDB_NOSYNC".
    public var settings: String
    public var threads: Int
    public var valueBytes: Int
    public var ops: Int
    public var opsPerSec: Double
    public var p50Microseconds: Double
    public var p99Microseconds: Double
    public var durationSeconds: Double
    /// Keys in the store the workload ran against (loaded stores and Cairn-only rows).
    public var keys: Int?
    public var openMilliseconds: Double?
    /// How the last timed open went, by the engine's own account (`StorageStats`).
    public var hintFilesLoaded: Int?
    public var dataFilesScanned: Int?
    public var megabytesPerSecond: Double?
    public var bytesRead: Int?
    public var bytesWritten: Int?
    public var bytesReclaimed: Int?
    /// Keydir bytes per key beyond the key itself, from `StorageEngine.stats()`.
    public var keydirBytesPerKey: Double?
    /// Cairn under `.always`: acknowledged writes per group-commit fsync round.
    public var writesPerSync: Double?
    /// Cairn's mean group-commit fsync time and mean wait for followers before it, in µs.
    public var fsyncMicroseconds: Double?
    public var gatherMicroseconds: Double?
    /// Growth of the process RSS per key while loading: a cross-check of `keydirBytesPerKey`.
    /// It includes the key bytes and allocator overhead, and, because Cairn writes through a
    /// memory mapping, the data-file pages touched while loading.
    public var rssBytesPerKey: Double?
    /// Growth of the anonymous RSS (RssAnon: heap, not file pages) per key, key bytes included.
    public var rssAnonBytesPerKey: Double?

    enum CodingKeys: String, CodingKey {
        case engine, workload, settings, threads, ops, keys
        case valueBytes = "value_bytes"
        case opsPerSec = "ops_per_sec"
        case p50Microseconds = "p50_us"
        case p99Microseconds = "p99_us"
        case durationSeconds = "duration_s"
        case openMilliseconds = "open_ms"
        case hintFilesLoaded = "hint_files_loaded"
        case dataFilesScanned = "data_files_scanned"
        case megabytesPerSecond = "mb_per_sec"
        case bytesRead = "bytes_read"
        case bytesWritten = "bytes_written"
        case bytesReclaimed = "bytes_reclaimed"
        case keydirBytesPerKey = "keydir_bytes_per_key"
        case rssBytesPerKey = "rss_bytes_per_key"
        case rssAnonBytesPerKey = "rss_anon_bytes_per_key"
        case writesPerSync = "writes_per_sync"
        case fsyncMicroseconds = "fsync_us"
        case gatherMicroseconds = "gather_us"
    }

    init(store: any BenchStore, workload: String, threads: Int, valueBytes: Int, result: PhaseResult) {
        self.init(engine: store.engine.rawValue, workload: workload, settings: store.settings,
                  threads: threads, valueBytes: valueBytes, result: result)
    }

    init(engine: String, workload: String, settings: String, threads: Int, valueBytes: Int, result: PhaseResult) {
        self.engine = engine
        self.workload = workload
        self.settings = settings
        self.threads = threads
        self.valueBytes = valueBytes
        ops = result.ops
        opsPerSec = result.opsPerSecond.rounded()
        p50Microseconds = BenchRow.round2(result.latency.microseconds(atPercentile: 50))
        p99Microseconds = BenchRow.round2(result.latency.microseconds(atPercentile: 99))
        durationSeconds = BenchRow.round2(Double(result.elapsedNanoseconds) / 1e9)
    }

    static func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
