import CairnStorage

/// Workloads only Cairn has: keydir memory per key, open time with and without hint files,
/// and merge throughput. They run with background merge off so nothing else touches the files.
extension EngineBenchmark {
    static let cairnSeed: UInt64 = 0xCA1B_0000_0000_0003

    private func cairnOptions(fileBytes: Int? = nil) -> StorageOptions {
        var options = StorageOptions(durability: .none)
        options.backgroundMerge = false
        if let fileBytes { options.maxFileSizeBytes = fileBytes }
        return options
    }

    /// "keydir-<count>": load `count` random 16-byte keys with 8-byte values; report the
    /// engine's own keydir bytes per key beyond the key, and RSS growth per key as a check.
    func runKeydirMemory() throws {
        guard config.engines.contains(.cairn) else { return }
        let pool = ValuePool(valueBytes: 8, seed: 8)
        for count in config.keydirCounts {
            let directory = try workspace.fresh("cairn-keydir-\(shortCount(count))")
            defer { workspace.remove(directory) }
            SystemProbe.releaseFreedMemory()
            let rssBefore = SystemProbe.residentBytes()
            let store = try CairnStore(directory: directory, level: .none, options: cairnOptions())
            let budget = PhaseBudget(maxOps: count, maxSeconds: 3600)
            let result = try Measurement.run(store: store, threads: 1, budget: budget, seed: Self.cairnSeed) { session, rng in
                try session.put(BenchKeys.random(&rng), pool.pick(&rng))
            }
            let stats = store.storage.stats()
            let rssAfter = SystemProbe.residentBytes()
            try store.close()
            guard stats.keys == count else {
                throw BenchError(engine: "cairn", operation: "stats", message: "expected \(count) keys, engine reports \(stats.keys)")
            }
            var row = BenchRow(store: store, workload: "keydir-\(shortCount(count))", threads: 1, valueBytes: 8, result: result)
            row.keys = stats.keys
            row.keydirBytesPerKey = BenchRow.round2(stats.keydirBytesPerKeyBeyondKey)
            row.rssBytesPerKey = BenchRow.round2(Double(rssAfter.total - rssBefore.total) / Double(count))
            row.rssAnonBytesPerKey = BenchRow.round2(Double(rssAfter.anonymous - rssBefore.anonymous) / Double(count))
            emit(row)
        }
    }

    /// "open-hints" and "open-no-hints": time to reopen a store of `openKeys` keys after a
    /// forced merge wrote hint files, then again with every *.hint file deleted.
    func runOpenTimes() throws {
        guard config.engines.contains(.cairn) else { return }
        let keys = config.openKeys
        let directory = try workspace.fresh("cairn-open")
        defer { workspace.remove(directory) }
        let pool = ValuePool(valueBytes: config.loadedValueBytes, seed: 13)
        let loader = try CairnStore(directory: directory, level: .none, options: cairnOptions())
        try loader.load(count: keys) { index in (BenchKeys.indexed(index), pool.value(at: index)) }
        try loader.close()
        let merger = try CairnStore(directory: directory, level: .none, options: cairnOptions())
        _ = try cairnCall("merge") { try merger.storage.merge(force: true) }
        try merger.close()
        let hints = try hintFiles(directory)
        progress("cairn open: merge left \(hints.count) hint file(s)")
        guard !hints.isEmpty else {
            throw BenchError(engine: "cairn", operation: "merge", message: "merge(force: true) wrote no *.hint files")
        }
        emit(try timedOpens(directory, workload: "open-hints", keys: keys, deletingHints: false))
        emit(try timedOpens(directory, workload: "open-no-hints", keys: keys, deletingHints: true))
    }

    /// "merge": load `mergeKeys`, overwrite every second key, reopen (so all data is in
    /// immutable files), then time `merge(force: true)`.
    func runMerge() throws {
        guard config.engines.contains(.cairn) else { return }
        let keys = config.mergeKeys
        let directory = try workspace.fresh("cairn-merge")
        defer { workspace.remove(directory) }
        let pool = ValuePool(valueBytes: config.loadedValueBytes, seed: 17)
        let options = cairnOptions(fileBytes: config.mergeFileBytes)
        let loader = try CairnStore(directory: directory, level: .none, options: options)
        try loader.load(count: keys) { index in (BenchKeys.indexed(index), pool.value(at: index)) }
        try loader.load(count: keys / 2) { index in (BenchKeys.indexed(index * 2), pool.value(at: index + 1)) }
        try loader.close()
        let bytesBefore = directoryBytes(directory)
        let store = try CairnStore(directory: directory, level: .none, options: options)
        let (report, nanoseconds) = try Measurement.time { try cairnCall("merge") { try store.storage.merge(force: true) } }
        let stats = store.storage.stats()
        try store.close()
        guard stats.keys == keys else {
            throw BenchError(engine: "cairn", operation: "merge", message: "expected \(keys) keys after merge, engine reports \(stats.keys)")
        }
        var latency = LatencyRecorder()
        latency.record(nanoseconds: nanoseconds)
        let result = PhaseResult(ops: keys, elapsedNanoseconds: nanoseconds, latency: latency)
        var row = BenchRow(store: store, workload: "merge", threads: 1, valueBytes: config.loadedValueBytes, result: result)
        let seconds = Double(nanoseconds) / 1e9
        row.keys = keys
        row.bytesRead = report.bytesRead
        row.bytesWritten = report.bytesWritten
        row.bytesReclaimed = report.bytesReclaimed
        row.megabytesPerSecond = BenchRow.round2(Double(report.bytesRead) / 1e6 / seconds)
        progress("cairn merge: \(report.inputFiles) input file(s) -> \(report.outputFiles), directory \(bytesBefore) -> \(directoryBytes(directory)) bytes")
        emit(row)
    }

    /// Opens and closes the store `openRepeats` times, timing each open from a cold page cache
    /// (every file of the store evicted first, as after a reboot).
    private func timedOpens(_ directory: String, workload: String, keys: Int, deletingHints: Bool) throws -> BenchRow {
        var latency = LatencyRecorder()
        var total: UInt64 = 0
        var settings = ""
        var hintFilesLoaded = 0, dataFilesScanned = 0
        for _ in 0..<config.openRepeats {
            if deletingHints {
                for name in try hintFiles(directory) { workspace.remove(directory + "/" + name) }
            }
            evictFromPageCache(directory)
            let (store, nanoseconds) = try Measurement.time {
                try CairnStore(directory: directory, level: .none, options: cairnOptions())
            }
            let stats = store.storage.stats()
            let found = stats.keys
            hintFilesLoaded = stats.hintFilesLoaded
            dataFilesScanned = stats.dataFilesScanned
            try store.close()
            guard found == keys else {
                throw BenchError(engine: "cairn", operation: "open", message: "expected \(keys) keys after open, found \(found)")
            }
            settings = store.settings + ", cold page cache"
            latency.record(nanoseconds: nanoseconds)
            total += nanoseconds
        }
        let median = latency.microseconds(atPercentile: 50) / 1000
        let result = PhaseResult(ops: keys, elapsedNanoseconds: total, latency: latency)
        var row = BenchRow(engine: "cairn", workload: workload, settings: settings, threads: 1,
                           valueBytes: config.loadedValueBytes, result: result)
        // Throughput of an open is keys brought into the keydir per second (median open).
        row.opsPerSec = (Double(keys) / (median / 1000)).rounded()
        row.openMilliseconds = BenchRow.round2(median)
        row.keys = keys
        row.hintFilesLoaded = hintFilesLoaded
        row.dataFilesScanned = dataFilesScanned
        return row
    }

    private func hintFiles(_ directory: String) throws -> [String] {
        try directoryEntries(directory).filter { $0.hasSuffix(".hint") }
    }
}
