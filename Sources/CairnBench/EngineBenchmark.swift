#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `cairn bench engine`: the same workloads against Cairn's engine, LMDB and RocksDB.
///
/// Workloads run one after another, each on a fresh store in its own scratch directory that
/// is deleted afterwards. Per-operation latency is measured on every worker thread with
/// CLOCK_MONOTONIC into an HdrHistogram; the rows keep p50 and p99 and the throughput.
public final class EngineBenchmark {
    let config: EngineBenchConfig
    let progress: (String) -> Void
    let workspace: Workspace
    var rows: [BenchRow] = []

    /// `progress` receives one line per phase (the command prints them on stderr).
    public init(config: EngineBenchConfig, progress: @escaping (String) -> Void) throws {
        self.config = config
        self.progress = progress
        workspace = try Workspace(parent: config.parentDirectory)
    }

    /// Runs every workload and returns the rows, deleting the scratch directory at the end.
    public func run() throws -> [BenchRow] {
        defer { workspace.removeAll() }
        progress("scratch directory \(workspace.root)")
        for group in WorkloadGroup.allCases where config.groups.contains(group) {
            switch group {
            case .keydir: try runKeydirMemory()
            case .put: try runPuts()
            case .always:
                try runAlwaysWriters()
                try runAsyncWriters()
            case .get: try runGetsAndMixes()
            case .scan: try runScans()
            case .open: try runOpenTimes()
            case .merge: try runMerge()
            }
        }
        return rows
    }

    /// Engine versions and machine facts, for the report header.
    public func environment() throws -> [(String, String)] {
        let directory = try workspace.fresh("version-probe")
        defer { workspace.remove(directory) }
        let rocks = try RocksDBStore(directory: directory, level: .none)
        let rocksVersion = rocks.version
        try rocks.close()
        return [
            ("cpu", SystemProbe.cpuModel()),
            ("cores", "\(SystemProbe.processorCount())"),
            ("lmdb", LMDBStore.version),
            ("rocksdb", rocksVersion),
            ("mode", config.quick ? "quick" : "full"),
        ]
    }

    /// Adds a row and reports it.
    func emit(_ row: BenchRow) {
        rows.append(row)
        var line = "\(row.engine) \(row.workload) threads=\(row.threads) value=\(row.valueBytes)B: "
            + "\(Report.format(row.opsPerSec, decimals: 0)) ops/s p50=\(row.p50Microseconds)us p99=\(row.p99Microseconds)us"
        let extra = Report.extra(row)
        if !extra.isEmpty { line += " " + extra }
        progress(line)
    }

    /// Opens a fresh store, runs `body`, closes it and deletes its directory.
    func withStore<T>(_ engine: EngineKind, level: DurabilityLevel, label: String,
                      _ body: (any BenchStore) throws -> T) throws -> T {
        let directory = try workspace.fresh("\(engine.rawValue)-\(label)")
        defer { workspace.remove(directory) }
        // Write back what earlier phases left dirty, so this phase's fsyncs do not pay for it.
        flushFileSystems()
        let store = try openStore(engine, directory: directory, level: level)
        let value: T
        do {
            value = try body(store)
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
        return value
    }
}

/// sync(2): asks the kernel to write back all dirty file data before a phase starts.
func flushFileSystems() {
    sync()
}
