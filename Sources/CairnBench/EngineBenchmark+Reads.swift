/// Read workloads against a loaded store: random gets, a 90/10 get/put mix on 1 and 16
/// threads, and prefix scans. Stores run with durability `.none` (or the nearest equivalent)
/// so the puts of the mix measure the write path, not the disk's fsync latency.
extension EngineBenchmark {
    static let readSeed: UInt64 = 0x5EED_0000_0000_0002

    /// "get" then "mix-90/10" (1 and 16 threads) on one store loaded with `loadedKeys` keys.
    func runGetsAndMixes() throws {
        let keys = config.loadedKeys
        let pool = ValuePool(valueBytes: config.loadedValueBytes, seed: 7)
        for engine in config.engines {
            try withStore(engine, level: .none, label: "get") { store in
                let (_, loadNanoseconds) = try Measurement.time {
                    try store.load(count: keys) { index in (BenchKeys.indexed(index), pool.value(at: index)) }
                }
                progress("\(engine.rawValue) loaded \(keys) keys in \(Report.format(Double(loadNanoseconds) / 1e9, decimals: 2)) s")
                let gets = try Measurement.run(store: store, threads: 1, budget: config.readBudget, seed: Self.readSeed) { session, rng in
                    let index = rng.below(keys)
                    guard try session.get(BenchKeys.indexed(index)) != nil else { throw Self.missing(store, index) }
                }
                emit(loadedRow(store, "get", threads: 1, keys: keys, gets))
                for threads in [1, config.manyThreads] {
                    let mix = try Measurement.run(store: store, threads: threads, budget: config.readBudget, seed: Self.readSeed) { session, rng in
                        let index = rng.below(keys)
                        if rng.below(10) == 0 {
                            try session.put(BenchKeys.indexed(index), pool.pick(&rng))
                        } else if try session.get(BenchKeys.indexed(index)) == nil {
                            throw Self.missing(store, index)
                        }
                    }
                    emit(loadedRow(store, "mix-90get/10put", threads: threads, keys: keys, mix))
                }
            }
        }
    }

    /// "scan-prefix": keys `user:NNNNNN:xxxx`, 10 per prefix, loaded in scattered order; each
    /// operation scans one random prefix (limit 100) and must get exactly its 10 keys back.
    func runScans() throws {
        let keys = config.loadedKeys
        let groupSize = config.scanGroupSize
        let groups = keys / groupSize
        let pool = ValuePool(valueBytes: config.loadedValueBytes, seed: 11)
        // 1_000_003 is prime and larger than any key count here, so j -> j * it mod keys
        // permutes 0..<keys: the load visits prefixes in scattered order, not sorted.
        let stride = 1_000_003
        for engine in config.engines {
            try withStore(engine, level: .none, label: "scan") { store in
                try store.load(count: keys) { j in
                    let position = (j * stride) % keys
                    return (BenchKeys.prefixed(group: position / groupSize, member: position % groupSize), pool.value(at: j))
                }
                let result = try Measurement.run(store: store, threads: 1, budget: config.readBudget, seed: Self.readSeed) { session, rng in
                    let group = rng.below(groups)
                    let found = try session.scan(prefix: BenchKeys.prefix(group: group), limit: 100)
                    guard found == groupSize else {
                        throw BenchError(engine: store.engine.rawValue, operation: "scan",
                                         message: "prefix group \(group) returned \(found) keys, expected \(groupSize)")
                    }
                }
                emit(loadedRow(store, "scan-prefix", threads: 1, keys: keys, result))
            }
        }
    }

    private func loadedRow(_ store: any BenchStore, _ workload: String, threads: Int, keys: Int, _ result: PhaseResult) -> BenchRow {
        var row = BenchRow(store: store, workload: workload, threads: threads, valueBytes: config.loadedValueBytes, result: result)
        row.keys = keys
        return row
    }

    private static func missing(_ store: any BenchStore, _ index: Int) -> BenchError {
        BenchError(engine: store.engine.rawValue, operation: "get", message: "loaded key #\(index) not found")
    }
}
