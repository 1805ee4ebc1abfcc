import Testing
@testable import CairnStorage

/// Random sequences of put / put-with-TTL / delete / merge / reopen / crash / clock moves,
/// checked against a dictionary after every step that can change what is visible (after
/// basho/bitcask's eqc/bitcask_qc_fsm.erl). A failure names its seed; rerun that one seed with
/// `swift test --filter "EngineModelTests"` and the same argument to replay it exactly.
@Suite struct EngineModelTests {
    struct Model {
        var values: [[UInt8]: (value: [UInt8], expiresAt: UInt64)] = [:]

        func visible(at now: UInt64) -> [[UInt8]: [UInt8]] {
            var out: [[UInt8]: [UInt8]] = [:]
            for (key, item) in values where item.expiresAt == 0 || item.expiresAt > now { out[key] = item.value }
            return out
        }
    }

    @Test(arguments: 0..<60)
    func randomOperationsMatchModel(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed) &* 7919)
        let dir = TempDirectory("model")
        let clock = ManualStorageClock()
        var options = testOptions(clock, maxFileSizeBytes: [4096, 8192, 65536].randomElement(using: &rng)!)
        options.hintsOnRollover = Bool.random(using: &rng)
        options.mergeDeadFraction = [0.0, 0.3, 0.6].randomElement(using: &rng)!
        var engine = try StorageEngine(directory: dir.path, options: options)
        var model = Model()
        let keySpace = [8, 40, 200].randomElement(using: &rng)!

        func randomKey() -> [UInt8] { bytes("k\(Int.random(in: 0..<keySpace, using: &rng))") }
        func randomValue() -> [UInt8] {
            let n = [0, 5, 50, 300, 2000].randomElement(using: &rng)!
            if Bool.random(using: &rng) { return [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: n) }
            return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        func checkAll(_ step: Int) throws {
            let visible = model.visible(at: clock.milliseconds)
            for key in Set(model.values.keys).union([randomKey(), randomKey()]) {
                let got = try engine.get(key)
                #expect(got == visible[key], "seed \(seed) step \(step) key \(String(decoding: key, as: UTF8.self))")
            }
            let scanned = try engine.scan(prefix: [], limit: 100_000).map { String(decoding: $0, as: UTF8.self) }
            let expected = visible.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
            #expect(scanned == expected, "seed \(seed) step \(step) scan")
        }

        for step in 0..<400 {
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<45:
                let key = randomKey(), value = randomValue()
                try engine.put(key, value)
                model.values[key] = (value, 0)
            case 45..<55:
                let key = randomKey(), value = randomValue()
                let ttl = UInt64.random(in: 1...5_000, using: &rng)
                try engine.put(key, value, ttlMilliseconds: ttl)
                model.values[key] = (value, clock.milliseconds + ttl)
            case 55..<70:
                let key = randomKey()
                try engine.delete(key)
                model.values[key] = nil
            case 70..<75:
                clock.advance(milliseconds: UInt64.random(in: 1...3_000, using: &rng))
            case 75..<80:
                try engine.merge(force: Bool.random(using: &rng))
                try checkAll(step)
            case 80..<83:
                engine.backgroundMaintenance(considerMerge: true)
            case 83..<87:
                try engine.close()
                engine = try StorageEngine(directory: dir.path, options: options)
                try checkAll(step)
            case 87..<91:
                // Crash: no truncation, no sync; the active file may end in reserved zeros,
                // and sometimes in junk from a torn write.
                let activePath = engine.lock.withLock { engine.active.path }
                engine.simulateCrash()
                if Bool.random(using: &rng) {
                    let last = activePath
                    let junk = (0..<Int.random(in: 1...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    try appendToFile(last, junk)
                }
                engine = try StorageEngine(directory: dir.path, options: options)
                try checkAll(step)
            case 91..<94:
                // Crash in the middle of a merge, at a random stage.
                let point: StorageEngine.MergeFailpoint =
                    [.afterOutputs, .afterManifest, .afterRename, .afterFirstInputDeleted].randomElement(using: &rng)!
                engine.lock.withLock { engine.mergeFailpoint = point }
                _ = try? engine.merge(force: true)
                engine.simulateCrash()
                engine = try StorageEngine(directory: dir.path, options: options)
                #expect(dir.files(suffix: ".merge").isEmpty, "seed \(seed) step \(step): merge leftovers")
                try checkAll(step)
            default:
                let key = randomKey()
                let visible = model.visible(at: clock.milliseconds)
                #expect(try engine.get(key) == visible[key], "seed \(seed) step \(step)")
            }
        }
        try checkAll(400)
        let stats = engine.stats()
        #expect(stats.corruptRecordsSkipped == 0, "seed \(seed): no corruption was injected")
        try engine.close()
    }
}
