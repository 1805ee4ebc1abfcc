#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with a condition variable.
///
/// The engine needs to wait on a condition (group commit followers wait for the leader's
/// fsync), which `Synchronization.Mutex` does not offer, so the engine's few locks are this.
/// Types that guard state with it are `@unchecked Sendable` and say which lock guards what.
final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// A second condition on the same mutex, for a waiter that must not be woken by (or wake)
    /// everyone waiting on the first (the group-commit leader gathering followers).
    private let secondary = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        pthread_cond_init(secondary, nil)
    }

    deinit {
        pthread_cond_destroy(secondary)
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        secondary.deallocate()
        cond.deallocate()
        mutex.deallocate()
    }

    /// Waits on the secondary condition until signalled or `deadline` (CLOCK_REALTIME).
    func waitSecondary(until deadline: timespec) {
        var deadline = deadline
        pthread_cond_timedwait(secondary, mutex, &deadline)
    }

    func signalSecondary() { pthread_cond_signal(secondary) }

    /// CLOCK_REALTIME `microseconds` from now, for `waitSecondary`.
    static func deadline(microsecondsFromNow microseconds: Int) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanos = Int(now.tv_nsec) + microseconds * 1000
        now.tv_sec += nanos / 1_000_000_000
        now.tv_nsec = nanos % 1_000_000_000
        return now
    }

    static func nowNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a broadcast; the lock must be held.
    func wait() { pthread_cond_wait(cond, mutex) }

    /// Waits for a broadcast or until `milliseconds` pass; the lock must be held.
    func wait(milliseconds: Int) {
        var deadline = ConditionLock.deadline(microsecondsFromNow: milliseconds * 1000)
        pthread_cond_timedwait(cond, mutex, &deadline)
    }

    func broadcast() { pthread_cond_broadcast(cond) }
}
