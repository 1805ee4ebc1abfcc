/// What one measured phase produced: operation count, wall time and merged latencies.
struct PhaseResult {
    var ops: Int
    var elapsedNanoseconds: UInt64
    var latency: LatencyRecorder

    var opsPerSecond: Double {
        elapsedNanoseconds == 0 ? 0 : Double(ops) * 1e9 / Double(elapsedNanoseconds)
    }
}

/// The limits of one measured phase: it stops at `maxOps` or `maxSeconds`, whichever first.
struct PhaseBudget: Sendable {
    var maxOps: Int
    var maxSeconds: Double
}

/// Runs one operation in a loop on `threads` threads against `store`, timing each call.
///
/// Every thread opens its own session and random generator (seeded from `seed` and its
/// index), times each operation with two CLOCK_MONOTONIC reads into its own histogram, and
/// stops at its share of the op budget or at the shared deadline. Throughput is total ops
/// over wall time from the first thread's start to the last thread's end.
enum Measurement {
    typealias Operation = @Sendable (any BenchSession, inout SplitMix64) throws -> Void

    static func run(store: any BenchStore, threads: Int, budget: PhaseBudget, seed: UInt64,
                    _ operation: @escaping Operation) throws -> PhaseResult {
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(budget.maxSeconds * 1e9)
        let outcomes = WorkerThreads.run(count: threads) { index -> Result<(Int, LatencyRecorder), any Error> in
            let quota = budget.maxOps / threads + (index < budget.maxOps % threads ? 1 : 0)
            return Result {
                let session = try store.makeSession()
                defer { session.close() }
                var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
                var recorder = LatencyRecorder()
                var done = 0
                while done < quota {
                    let before = monotonicNanoseconds()
                    try operation(session, &rng)
                    let after = monotonicNanoseconds()
                    recorder.record(nanoseconds: after &- before)
                    done += 1
                    if after >= deadline { break }
                }
                return (done, recorder)
            }
        }
        let elapsed = monotonicNanoseconds() - start
        var result = PhaseResult(ops: 0, elapsedNanoseconds: elapsed, latency: LatencyRecorder())
        for outcome in outcomes {
            let (ops, recorder) = try outcome.get()
            result.ops += ops
            result.latency.merge(recorder)
        }
        return result
    }

    /// Times a single call (open, merge, a whole load) in nanoseconds.
    static func time<T>(_ body: () throws -> T) rethrows -> (T, UInt64) {
        let start = monotonicNanoseconds()
        let value = try body()
        return (value, monotonicNanoseconds() - start)
    }
}
