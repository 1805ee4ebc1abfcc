/// Write workloads: random puts under each durability policy, and 1 vs 16 writers under
/// `always` (where group commit should let concurrent writers share fsyncs).
extension EngineBenchmark {
    static let putSeed: UInt64 = 0xC0FF_EE00_0000_0001

    /// "put-none", "put-interval", "put-always" for each value size and engine, one thread,
    /// each on an empty store, 16-byte random keys (all inserts).
    func runPuts() throws {
        for level in DurabilityLevel.allCases {
            for valueBytes in config.valueSizes {
                let pool = ValuePool(valueBytes: valueBytes, seed: UInt64(valueBytes))
                let budget = level == .always ? config.alwaysBudget : config.putBudget
                for engine in config.engines {
                    let row = try withStore(engine, level: level, label: "put-\(level)-\(valueBytes)") { store in
                        let result = try Measurement.run(store: store, threads: 1, budget: budget, seed: Self.putSeed) { session, rng in
                            try session.put(BenchKeys.random(&rng), pool.pick(&rng))
                        }
                        var row = BenchRow(store: store, workload: "put-\(level)", threads: 1, valueBytes: valueBytes, result: result)
                        if level == .always { Self.noteGroupCommit(store, result, &row) }
                        return row
                    }
                    emit(row)
                }
            }
        }
    }

    /// "put-always-1w" and "put-always-16w": the same `always` put stream from one writer and
    /// from 16 writers (each with the single writer's op quota, all bounded by the same time).
    func runAlwaysWriters() throws {
        let pool = ValuePool(valueBytes: 100, seed: 100)
        for writers in [1, config.manyThreads] {
            let budget = PhaseBudget(maxOps: config.alwaysBudget.maxOps * writers, maxSeconds: config.alwaysBudget.maxSeconds)
            for engine in config.engines {
                let row = try withStore(engine, level: .always, label: "always-\(writers)w") { store in
                    let result = try Measurement.run(store: store, threads: writers, budget: budget, seed: Self.putSeed) { session, rng in
                        try session.put(BenchKeys.random(&rng), pool.pick(&rng))
                    }
                    var row = BenchRow(store: store, workload: "put-always-\(writers)w", threads: writers, valueBytes: 100, result: result)
                    Self.noteGroupCommit(store, result, &row)
                    return row
                }
                emit(row)
            }
        }
    }

    /// Cairn's writes per group-commit round and its mean fsync and gather times (nothing for
    /// the other engines, which do not say).
    static func noteGroupCommit(_ store: any BenchStore, _ result: PhaseResult, _ row: inout BenchRow) {
        guard let cairn = store as? CairnStore else { return }
        let stats = cairn.storage.stats()
        guard stats.groupCommitRounds > 0 else { return }
        row.writesPerSync = BenchRow.round2(Double(result.ops) / Double(stats.groupCommitRounds))
        row.fsyncMicroseconds = BenchRow.round2(stats.groupCommitMeanSyncMicroseconds)
        row.gatherMicroseconds = BenchRow.round2(stats.groupCommitMeanGatherMicroseconds)
    }
}
