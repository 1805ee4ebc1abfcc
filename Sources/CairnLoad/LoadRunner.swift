import CairnBench
import CairnClient
import Synchronization

/// Runs a `LoadPlan` over a transport: `check`, then `preload` when the workload reads, then
/// `run`.
///
/// Each of `concurrency` workers has its own connection and takes operation numbers from one
/// shared counter. Closed loop (no rate): a worker sends its next request when the previous
/// one is answered, and latency runs from the send. Open loop (`rate`): operation `i` is due at
/// `i / rate` s (`OpenLoopSchedule`); a free worker waits for the due time of the number it
/// took, and when every worker is busy the due times slip by, so latency is measured from the
/// due time and includes that wait (docs/benchmarks.md, "Open loop").
public struct LoadRunner: Sendable {
    public let plan: LoadPlan
    public let transport: any LoadTransport

    /// How long a closed-loop worker pauses after an error, so that a node that refuses
    /// connections does not turn the generator into a connect storm. Open-loop workers keep to
    /// the schedule instead.
    static let pauseAfterError: Duration = .milliseconds(10)

    public init(plan: LoadPlan, transport: any LoadTransport) {
        self.plan = plan
        self.transport = transport
    }

    /// Refuses a workload the transport cannot send, and checks that every node answers.
    public func check() async throws {
        let unsupported = plan.workload.operations.filter { !transport.supportedOperations.contains($0) }
        guard unsupported.isEmpty else {
            throw LoadError("the \(transport.name) transport sends no \(unsupported.map(\.rawValue).joined(separator: ", ")) "
                + "(it sends \(OperationKind.allCases.filter(transport.supportedOperations.contains).map(\.rawValue).joined(separator: ", ")))")
        }
        for node in plan.nodes {
            do {
                try await transport.check(node)
            } catch {
                throw LoadError("\(node) (\(transport.name)) does not answer: \(error)")
            }
        }
    }

    /// Writes every key of the workload once, `concurrency` at a time, before a run that reads
    /// them. Throws on the first failed write. Returns how long it took.
    public func preload(progress: (@Sendable (_ written: UInt64, _ total: UInt64) -> Void)? = nil) async throws -> Duration {
        let workload = plan.workload
        let total = UInt64(workload.keyCount)
        let counters = PreloadCounters()
        let started = ContinuousClock.now
        let reporter = progress.map { report in
            Task {
                while (try? await Task.sleep(for: .seconds(1))) != nil {
                    report(counters.written.load(ordering: .relaxed), total)
                }
            }
        }
        defer { reporter?.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<Swift.min(plan.concurrency, workload.keyCount) {
                let node = plan.nodes[worker % plan.nodes.count]
                let seed = plan.seed &+ UInt64(worker)
                group.addTask {
                    let connection = try await transport.connect(to: node)
                    defer { connection.close() }
                    var generator = WorkloadGenerator(workload: workload, seed: seed)
                    while true {
                        let index = counters.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < total else { return }
                        do {
                            _ = try await connection.perform(.put(key: workload.key(Int(index)), value: generator.value()))
                        } catch {
                            throw LoadError("preloading key \(index) through \(node) failed: \(error)")
                        }
                        counters.written.add(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - started
    }

    /// The measured run. `progress` is called about once a second.
    public func run(progress: (@Sendable (LoadProgress) -> Void)? = nil) async throws -> LoadResult {
        let plan = self.plan
        let transport = self.transport
        let schedule = plan.schedule
        let limit = plan.operationLimit
        let state = RunState()
        let book = CASBook()
        let started = ContinuousClock.now
        let deadline = plan.duration.map { started + $0 }

        let reporter = progress.map { report in
            Task {
                var last = started
                var previous: UInt64 = 0
                while (try? await Task.sleep(for: .seconds(1))) != nil {
                    let now = ContinuousClock.now
                    let (interval, intervalErrors, completed, errors) = state.tally.withLock { tally in
                        let (interval, intervalErrors) = tally.takeInterval()
                        return (interval, intervalErrors, tally.completed, tally.errorCount)
                    }
                    let elapsed = now - started
                    var backlog: UInt64?
                    if let schedule {
                        let due = Swift.min(schedule.operationsDue(atNanoseconds: elapsed.clampedNanoseconds), limit)
                        let taken = Swift.min(state.next.load(ordering: .relaxed), limit)
                        backlog = due > taken ? due - taken : 0
                    }
                    report(LoadProgress(
                        elapsedSeconds: elapsed.seconds, intervalSeconds: (now - last).seconds,
                        intervalOperations: completed - previous,
                        p50Milliseconds: interval.microseconds(atPercentile: 50) / 1000,
                        p99Milliseconds: interval.microseconds(atPercentile: 99) / 1000,
                        maxMilliseconds: interval.maxMicroseconds / 1000,
                        intervalErrors: intervalErrors, completed: completed, errors: errors, backlog: backlog))
                    last = now
                    previous = completed
                }
            }
        }
        defer { reporter?.cancel() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<plan.concurrency {
                let node = plan.nodes[worker % plan.nodes.count]
                let seed = plan.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(worker + 1)
                group.addTask {
                    let connection = try await transport.connect(to: node)
                    defer { connection.close() }
                    var generator = WorkloadGenerator(workload: plan.workload, seed: seed)
                    while true {
                        let index = state.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < limit else { return }
                        var intended: ContinuousClock.Instant?
                        if let schedule {
                            let due = started + schedule.offset(ofOperation: index)
                            if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
                            intended = due
                        }
                        let sent = ContinuousClock.now
                        if let deadline, sent >= deadline { return }
                        let (request, keyIndex) = generator.next(book: book)
                        let kind = request.kind
                        state.tally.withLock { $0.sent += 1 }
                        do {
                            let outcome = try await connection.perform(request)
                            let done = ContinuousClock.now
                            if case .cas(_, _, let new) = request {
                                switch outcome {
                                case .applied: book.learn(keyIndex, holds: new)
                                case .notApplied(let current): book.learn(keyIndex, holds: current)
                                default: break
                                }
                            }
                            state.tally.withLock {
                                $0.record(kind, outcome, latencyNanoseconds: (done - (intended ?? sent)).clampedNanoseconds,
                                          serviceNanoseconds: (done - sent).clampedNanoseconds)
                            }
                        } catch is CancellationError {
                            return
                        } catch {
                            let label = transport.label(for: error)
                            state.tally.withLock { $0.recordError(kind, label: label) }
                            if schedule == nil { try await Task.sleep(for: Self.pauseAfterError) }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        let final = state.tally.withLock { $0 }
        return LoadResult(
            plan: plan, transportName: transport.name, elapsed: elapsed, tally: final,
            scheduled: schedule == nil ? nil : limit)
    }
}

/// What the workers of a run share: the next operation number and the tally.
private final class RunState: Sendable {
    let next = Atomic<UInt64>(0)
    let tally = Mutex(LoadTally())
}

/// What the workers of a preload share: the next key and how many are written.
private final class PreloadCounters: Sendable {
    let next = Atomic<UInt64>(0)
    let written = Atomic<UInt64>(0)
}
