import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A background thread that calls `body` every `intervalMilliseconds` until stopped.
///
/// This is how the benchmark gives LMDB (`mdb_env_sync`) and RocksDB (`FlushWAL(true)`) the
/// same "fsync every 100 ms" policy that Cairn's `.interval(milliseconds: 100)` has built in.
final class PeriodicTask: Sendable {
    private let state: PeriodicState
    private let thread: pthread_t

    init(intervalMilliseconds: Int, _ body: @escaping @Sendable () throws -> Void) {
        precondition(intervalMilliseconds > 0, "interval \(intervalMilliseconds) ms must be positive")
        let state = PeriodicState()
        let interval = UInt64(intervalMilliseconds) * 1_000_000
        self.state = state
        thread = WorkerThreads.spawn {
            var next = monotonicNanoseconds() + interval
            while !state.stopped.load(ordering: .acquiring) {
                let now = monotonicNanoseconds()
                if now >= next {
                    do { try body() } catch { state.record(error) }
                    next += interval
                    if next < now { next = now + interval }
                } else {
                    // Short naps so stop() returns promptly.
                    sleepNanoseconds(Swift.min(next - now, 5_000_000))
                }
            }
        }
    }

    /// Stops and joins the thread; throws the first error `body` threw, if any.
    func stop() throws {
        state.stopped.store(true, ordering: .releasing)
        WorkerThreads.join(thread)
        if let error = state.firstError() { throw error }
    }
}

private final class PeriodicState: Sendable {
    let stopped = Atomic<Bool>(false)
    private let error = Mutex<(any Error)?>(nil)

    func record(_ newError: any Error) {
        error.withLock { if $0 == nil { $0 = newError } }
    }

    func firstError() -> (any Error)? { error.withLock { $0 } }
}
