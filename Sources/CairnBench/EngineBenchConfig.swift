/// Sizes and time limits of one `cairn bench engine` run.
///
/// Quick and full mode produce the same rows; quick uses smaller stores and shorter phases so
/// the whole run finishes in well under two minutes on a 2-core machine.
public struct EngineBenchConfig: Sendable {
    public var quick: Bool
    /// Parent of the scratch directory; nil means the system temporary directory.
    public var parentDirectory: String?
    public var engines: [EngineKind] = EngineKind.allCases
    /// The workload groups to run; all of them unless narrowed (`--only`).
    public var groups: [WorkloadGroup] = WorkloadGroup.allCases

    /// Keys loaded (100-byte values) before the get, mix and scan workloads.
    var loadedKeys: Int
    /// Random puts under `.none` and `.interval`.
    var putBudget: PhaseBudget
    /// Random puts under `.always` (an fsync per acknowledgement), per writer thread.
    var alwaysBudget: PhaseBudget
    /// Gets, mixes and scans against a loaded store.
    var readBudget: PhaseBudget
    /// Key counts of the keydir-memory rows (8-byte values).
    var keydirCounts: [Int]
    var openKeys: Int
    var openRepeats: Int
    var mergeKeys: Int
    /// Data-file size for the merge workload, small so the data spans many immutable files.
    var mergeFileBytes: Int

    let valueSizes = [100, 1024]
    let loadedValueBytes = 100
    let manyThreads = 16
    let scanGroupSize = 10

    public init(quick: Bool, parentDirectory: String?) {
        self.quick = quick
        self.parentDirectory = parentDirectory
        if quick {
            loadedKeys = 100_000
            putBudget = PhaseBudget(maxOps: 200_000, maxSeconds: 1)
            alwaysBudget = PhaseBudget(maxOps: 2_000, maxSeconds: 1)
            readBudget = PhaseBudget(maxOps: 5_000_000, maxSeconds: 1)
            keydirCounts = [100_000, 1_000_000]
            openKeys = 100_000
            openRepeats = 3
            mergeKeys = 100_000
            mergeFileBytes = 2 << 20
        } else {
            loadedKeys = 1_000_000
            putBudget = PhaseBudget(maxOps: 1_000_000, maxSeconds: 5)
            alwaysBudget = PhaseBudget(maxOps: 2_000, maxSeconds: 5)
            readBudget = PhaseBudget(maxOps: 50_000_000, maxSeconds: 5)
            keydirCounts = [1_000_000, 10_000_000]
            openKeys = 1_000_000
            openRepeats = 3
            mergeKeys = 1_000_000
            mergeFileBytes = 16 << 20
        }
    }
}

/// The workload families, in the order a run performs them.
public enum WorkloadGroup: String, Sendable, CaseIterable {
    /// Cairn keydir bytes per key (runs first so the RSS cross-check starts from a clean heap).
    case keydir
    /// Random puts under each durability policy.
    case put
    /// 1 vs 16 writers under fsync-per-write.
    case always
    /// Random gets and the 90/10 mix on a loaded store.
    case get
    case scan
    /// Cairn open time with and without hint files.
    case open
    /// Cairn merge throughput.
    case merge
}

/// "100k", "1M", "10M": key counts as they appear in workload names.
func shortCount(_ count: Int) -> String {
    if count >= 1_000_000 && count % 1_000_000 == 0 { return "\(count / 1_000_000)M" }
    if count >= 1_000 && count % 1_000 == 0 { return "\(count / 1_000)k" }
    return "\(count)"
}
