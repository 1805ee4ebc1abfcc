import CairnStorage
import Dispatch

/// "put-always-1t-async" and "put-always-16t-async" (Cairn only): the `always` put stream
/// from 1 and from 16 concurrent Swift tasks using the engine's async `put`, which suspends a
/// task on group commit instead of parking a thread. This is how a node's event loops write;
/// LMDB and RocksDB have no such API, so they have no rows here.
extension EngineBenchmark {
    func runAsyncWriters() throws {
        guard config.engines.contains(.cairn) else { return }
        let pool = ValuePool(valueBytes: 100, seed: 100)
        for tasks in [1, config.manyThreads] {
            let budget = PhaseBudget(maxOps: config.alwaysBudget.maxOps * tasks, maxSeconds: config.alwaysBudget.maxSeconds)
            let row = try withStore(.cairn, level: .always, label: "always-\(tasks)t-async") { store in
                let cairn = store as! CairnStore
                let result = try Self.runTasks(cairn.storage, tasks: tasks, budget: budget, pool: pool)
                var row = BenchRow(store: store, workload: "put-always-\(tasks)t-async", threads: tasks, valueBytes: 100, result: result)
                Self.noteGroupCommit(store, result, &row)
                return row
            }
            emit(row)
        }
    }

    /// Runs `tasks` concurrent tasks of timed puts and blocks until they finish.
    static func runTasks(_ engine: StorageEngine, tasks: Int, budget: PhaseBudget, pool: ValuePool) throws -> PhaseResult {
        final class Outcome: @unchecked Sendable {
            var value: Result<PhaseResult, any Error> = .failure(BenchError(engine: "cairn", operation: "async", message: "did not run"))
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let start = monotonicNanoseconds()
            let deadline = start + UInt64(budget.maxSeconds * 1e9)
            do {
                var result = PhaseResult(ops: 0, elapsedNanoseconds: 0, latency: LatencyRecorder())
                try await withThrowingTaskGroup(of: (Int, LatencyRecorder).self) { group in
                    for index in 0..<tasks {
                        let quota = budget.maxOps / tasks + (index < budget.maxOps % tasks ? 1 : 0)
                        group.addTask {
                            var rng = SplitMix64(seed: putSeed &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
                            var recorder = LatencyRecorder()
                            var count = 0
                            while count < quota {
                                let key = BenchKeys.random(&rng), value = pool.pick(&rng)
                                let before = monotonicNanoseconds()
                                try await engine.put(key, value)
                                let after = monotonicNanoseconds()
                                recorder.record(nanoseconds: after &- before)
                                count += 1
                                if after >= deadline { break }
                            }
                            return (count, recorder)
                        }
                    }
                    for try await (count, recorder) in group {
                        result.ops += count
                        result.latency.merge(recorder)
                    }
                }
                result.elapsedNanoseconds = monotonicNanoseconds() - start
                outcome.value = .success(result)
            } catch {
                outcome.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return try outcome.value.get()
    }
}
